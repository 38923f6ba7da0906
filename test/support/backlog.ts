// The backlog of the autoscaling e2e tests: EVENTRUNNER_AUTOSCALE_EVENTS events when set (200,000
// for the figures in docs/operations.md), else the file's default, sized for CI time.
export function autoscaleBacklog(fallback: number): number {
  const env = process.env.EVENTRUNNER_AUTOSCALE_EVENTS;
  if (env === undefined || env === '') return fallback;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`EVENTRUNNER_AUTOSCALE_EVENTS: expected a positive whole number of events, got "${env}"`);
  return n;
}
