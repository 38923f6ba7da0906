// The benchmark's workload: realistic shop CloudEvents and GRL rule sets of a given size, both
// generated from a fixed seed so every run (and both engines) see exactly the same input. Rules
// are written in idiomatic Grule style (each retracts itself), so Grule and eventrunner do the
// same work and give the same results; each writes its own field and reads none that others write,
// so evaluating an event again gives the same firings.

/** mulberry32: a small deterministic PRNG. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TYPES = [
  'com.shop.order.created',
  'com.shop.order.updated',
  'com.shop.order.refunded',
  'com.shop.order.cancelled',
  'com.shop.cart.abandoned',
  'com.shop.payment.captured',
];
const SOURCES = ['/checkout/web', '/checkout/app', '/backoffice', '/partner/acme', '/partner/globex'];
const COUNTRIES = ['DE', 'FR', 'NL', 'AT', 'CH', 'US', 'GB', 'IT', 'ES', 'PL'];
const CHANNELS = ['web', 'app', 'phone', 'partner'];
const TIERS = ['basic', 'silver', 'gold', 'platinum'];
const CURRENCIES = ['EUR', 'USD', 'CHF', 'GBP'];
export const OUTPUTS = ['analytics', 'archive', 'audit', 'store'];

export function generateEvents(count: number, seed = 42): object[] {
  const rnd = random(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const events: object[] = [];
  for (let i = 0; i < count; i++) {
    const items = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => ({
      sku: `SKU-${Math.floor(rnd() * 5000)}`,
      qty: 1 + Math.floor(rnd() * 5),
      price: Math.round(rnd() * 20000) / 100,
    }));
    const amount = Math.round(items.reduce((s, it) => s + it.qty * it.price, 0) * 100) / 100;
    events.push({
      specversion: '1.0',
      id: `evt-${seed}-${i}`,
      type: pick(TYPES),
      source: pick(SOURCES),
      subject: `order-${100000 + i}`,
      time: new Date(Date.UTC(2024, 4, 1, 0, 0, i % 86400)).toISOString(),
      datacontenttype: 'application/json',
      data: {
        orderId: `o-${100000 + i}`,
        amount,
        currency: pick(CURRENCIES),
        channel: pick(CHANNELS),
        customer: { id: `c-${Math.floor(rnd() * 100000)}`, tier: pick(TIERS), country: pick(COUNTRIES) },
        items,
        coupon: rnd() < 0.2 ? `SAVE${Math.floor(rnd() * 30)}` : '',
      },
    });
  }
  return events;
}

/** A rule set of `count` rules mixing the condition shapes routing rules use. */
export function generateRules(count: number, seed = 7): string {
  const rnd = random(seed + count);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const rules: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `R${i}`;
    const amount = Math.floor(rnd() * 1500);
    let when: string;
    switch (i % 6) {
      case 0:
        when = `event.type == "${pick(TYPES)}" && event.data.amount >= ${amount} && event.data.customer.country == "${pick(COUNTRIES)}"`;
        break;
      case 1:
        when = `event.data.customer.country == "${pick(COUNTRIES)}" && event.data.channel == "${pick(CHANNELS)}" && event.data.currency == "${pick(CURRENCIES)}"`;
        break;
      case 2:
        when = `event.source.HasPrefix("${pick(SOURCES).slice(0, 9)}") && event.data.amount < ${amount} && event.type == "${pick(TYPES)}"`;
        break;
      case 3:
        when = `event.data.customer.tier.In("${pick(TIERS)}", "${pick(TIERS)}") && event.data.items.Len() > ${1 + Math.floor(rnd() * 3)} && event.data.channel == "${pick(CHANNELS)}"`;
        break;
      case 4:
        when = `event.data.currency == "${pick(CURRENCIES)}" && event.data.amount * 1.2 > ${amount} && event.data.customer.tier == "${pick(TIERS)}" && event.type == "${pick(TYPES)}"`;
        break;
      default:
        when = `event.data.items[0].sku.HasPrefix("SKU-${Math.floor(rnd() * 50)}") && event.data.coupon != ""`;
    }
    const then = `event.data.r${i} = "${pick(['gold', 'review', 'fraud-check', 'vip', 'eu'])}"; Route("${pick(OUTPUTS)}"); Retract("${name}");`;
    rules.push(
      `rule ${name} "generated routing rule ${i}" salience ${Math.floor(rnd() * 20)} {\n  when ${when}\n  then ${then}\n}`,
    );
  }
  return rules.join('\n');
}
