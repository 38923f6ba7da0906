// Realistic shop CloudEvents for the pipeline benchmark (about 450 bytes each as structured JSON).
import type { CloudEvent } from '../../runtime/events/index.js';

const types = [
  'com.shop.order.created',
  'com.shop.order.paid',
  'com.shop.order.shipped',
  'com.shop.cart.updated',
];
const countries = ['DE', 'FR', 'NL', 'ES', 'IT', 'PL', 'SE', 'US', 'GB', 'JP'];
const skus = ['SKU-1001', 'SKU-2002', 'SKU-3003', 'SKU-4004', 'SKU-5005', 'SKU-6006'];

/** Deterministic pseudo-random event number i of run `run`. */
export function shopEvent(run: string, i: number, sentAt?: number): CloudEvent {
  const r = (k: number) => ((i * 2654435761 + k * 40503) >>> 0) % 1000;
  const items = Array.from({ length: 1 + (r(1) % 3) }, (_, j) => ({
    sku: skus[(r(2) + j) % skus.length],
    qty: 1 + (r(3 + j) % 4),
    price: Math.round(r(5 + j) * 1.7 * 100) / 100,
  }));
  const amount = Math.round(items.reduce((s, it) => s + it.qty * it.price, 0) * 100) / 100;
  return {
    specversion: '1.0',
    id: `${run}-${i.toString(36).padStart(8, '0')}`,
    source: '/shop/web',
    type: types[i % types.length]!,
    subject: `order/${100000 + (i % 500000)}`,
    time: new Date(Date.UTC(2024, 5, 1) + i * 37).toISOString(),
    datacontenttype: 'application/json',
    data: {
      orderId: `o-${i}`,
      customer: {
        id: `c-${r(7) * 13}`,
        country: countries[r(8) % countries.length],
        segment: r(9) % 3 ? 'retail' : 'business',
      },
      amount,
      currency: 'EUR',
      items,
      ...(sentAt !== undefined ? { sentAt } : {}),
    },
  };
}

export const BENCH_RULES = `
rule Gold "large orders are gold" salience 10 {
  when event.data.amount >= 500 && event.data.customer.segment == "retail"
  then event.data.tier = "gold";
}
rule Business "business customers" salience 5 {
  when event.data.customer.segment == "business"
  then event.data.tier = "business"; event.priority = 1;
}
`;

export const BENCH_COLUMNS = [
  { name: 'amount', type: 'double' as const, from: '/data/amount' },
  { name: 'country', type: 'text' as const, from: '/data/customer/country' },
  { name: 'tier', type: 'text' as const, from: '/data/tier' },
];
