// The switch and the reporting for every library-internal fast path. One FastPaths is made at
// start-up from the process's config and handed to what builds sinks, consumers and Kubernetes
// clients; each asks it for its internals and takes the library's public path when it gets none.
// A path that is off or disabled is logged once, shows 0 in `eventrunner_fast_path_enabled`, and
// counts the work it sends the public way in `eventrunner_fast_path_fallbacks_total`.
import type { Registry } from 'prom-client';
import type { Logger } from '../common/logger.js';
import {
  checkSite,
  type FastPathName,
  type FastPathSite,
  type FastPathStatus,
  type LoadContext,
} from './guard.js';
import { fastPathMetrics, noMetrics, type FallbackCounter, type FastPathMetrics } from './metrics.js';

export interface FastPathOptions {
  /** false: every fast path off, the libraries' public APIs only. Default true. */
  enabled?: boolean;
  /** Where a disabled path is reported (once). Without it, read `statuses()` and log them. */
  log?: Logger;
  /** Where the metrics are registered. Without it there are none. */
  registry?: Registry;
  /** Versions to expect instead of the sites' pins, by package (tests simulate a bump with it). */
  pins?: Readonly<Record<string, string>>;
  /** How the sites reach library files (tests simulate a moved file with it). */
  loadContext?: LoadContext;
}

export class FastPaths {
  readonly enabled: boolean;
  private readonly log: Logger | undefined;
  private readonly metrics: FastPathMetrics;
  private readonly options: FastPathOptions;
  private readonly resolved = new Map<FastPathName, FastPathStatus>();
  /** Paths whose unexpected shape at run time was reported already. */
  private readonly missed = new Set<FastPathName>();
  private offReported = false;

  constructor(options: FastPathOptions = {}) {
    this.options = options;
    this.enabled = options.enabled ?? true;
    this.log = options.log;
    this.metrics = options.registry ? fastPathMetrics(options.registry) : noMetrics;
  }

  /** The site's internals when its path may be used; null (reported once) when it may not. */
  use<T>(site: FastPathSite<T>): T | null {
    let status = this.resolved.get(site.path) as FastPathStatus<T> | undefined;
    if (!status) {
      status = this.enabled
        ? checkSite(site, {
            ...(this.options.pins ? { pins: this.options.pins } : {}),
            ...(this.options.loadContext ? { ctx: this.options.loadContext } : {}),
          })
        : {
            path: site.path,
            enabled: false,
            libraries: [],
            reason: 'off',
            detail: 'fast paths are turned off',
          };
      this.resolved.set(site.path, status);
      this.metrics.setEnabled(site.path, status.enabled);
      this.report(status);
    }
    return status.enabled && !this.missed.has(site.path) ? status.internals : null;
  }

  /**
   * An internal looked different at run time (a client or message without the fields the guard
   * checked on the library's classes): reported once, and the gauge drops to 0. The caller takes
   * the public path for that piece of work and counts it.
   */
  miss(path: FastPathName, detail: string): void {
    if (this.missed.has(path)) return;
    this.missed.add(path);
    this.metrics.setEnabled(path, false);
    const status = this.resolved.get(path);
    this.log?.warn(
      { path, libraries: status ? versions(status) : undefined, reason: 'shape', detail },
      'Disabled library fast path: an internal looks different at run time; using the public API',
    );
  }

  /** Counts work that took the public path for `path`: call `inc()` once per write, message… */
  fallbacks(path: FastPathName): FallbackCounter {
    return this.metrics.fallbacks(path);
  }

  /** What was decided for each path used so far (for callers without a logger). */
  statuses(): { path: FastPathName; enabled: boolean; reason?: string; detail?: string }[] {
    return [...this.resolved.values()].map((s) =>
      s.enabled && !this.missed.has(s.path)
        ? { path: s.path, enabled: true }
        : {
            path: s.path,
            enabled: false,
            reason: s.enabled ? 'shape' : s.reason,
            ...(s.enabled ? {} : { detail: s.detail }),
          },
    );
  }

  private report(status: FastPathStatus): void {
    if (status.enabled) return;
    if (status.reason === 'off') {
      if (this.offReported) return;
      this.offReported = true;
      this.log?.info('Library fast paths are turned off; using the libraries’ public APIs');
      return;
    }
    this.log?.warn(
      { path: status.path, libraries: versions(status), reason: status.reason, detail: status.detail },
      'Disabled library fast path; using the library’s public API',
    );
  }
}

function versions(status: FastPathStatus): string[] {
  return status.libraries.map((l) => `${l.name}@${l.installed ?? 'missing'} (written for ${l.writtenFor})`);
}

let shared: FastPaths | undefined;

/**
 * The FastPaths of callers that pass none: every path on, no logger, no metrics. A process
 * should make its own from its config and pass it everywhere.
 */
export function defaultFastPaths(): FastPaths {
  return (shared ??= new FastPaths());
}
