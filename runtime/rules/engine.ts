// The evaluation loop: Grule's conflict-set cycle over compiled rules. Each cycle the matching rule
// of highest salience fires (ties: declaration order). Instead of re-evaluating every `when` every
// cycle as Grule does, results are cached and only the conditions that the fired rule's writes can
// affect are evaluated again (see paths.ts); conditions have no side effects, so the fired sequence
// is the same.
import type { ActionSink, CompiledStatement } from './compile-stmt.js';
import type { EventObject } from './compile-expr.js';
import { EvalFailure } from './errors.js';
import type { Discriminator } from './discriminate.js';
import type { ConditionCache } from './expr-cache.js';

export type RuleMode = 'once' | 'refire';

/** A structured-mode CloudEvent: context attributes, extensions and `data`, as JSON. */
export interface CloudEventLike {
  specversion: string;
  id: string;
  type: string;
  source: string;
  subject?: string;
  time?: string;
  datacontenttype?: string;
  data?: unknown;
  [extension: string]: unknown;
}

export interface RuleOutcome {
  outcome: 'routed' | 'dropped' | 'deadletter';
  /** Sorted output names; empty unless routed. May be shared between outcomes: do not modify. */
  routes: string[];
  /** Why the event was dead-lettered. */
  reason?: string;
  /** The rule that dropped or dead-lettered the event (absent for a drop by empty defaultOutputs). */
  rule?: string;
  /** The event after the rules: the object passed to evaluate(), changed in place. */
  event: CloudEventLike;
}

/**
 * Whether the Pipeline's queries see the event: every event the rules neither dead-lettered nor
 * dropped with `Drop()`. An event no `Route()` and no `defaultOutputs` send anywhere is a drop for
 * the outputs, yet still an input of the queries (a Pipeline may exist only for its queries).
 */
export function keptForQueries(o: Pick<RuleOutcome, 'outcome' | 'rule'>): boolean {
  return o.outcome === 'routed' || (o.outcome === 'dropped' && o.rule === undefined);
}

export interface EngineRule {
  name: string;
  /** Matches when it returns the boolean true; a throw means no match. */
  when: (e: EventObject) => unknown;
  then: CompiledStatement[];
  /** Re-evaluate every cycle (the condition calls Now()). */
  volatile: boolean;
  /** Rules (by priority position) whose condition this rule's writes may change. */
  invalidates: Int32Array;
  /** Cached sub-expressions this rule's writes may change. */
  invalidatesSlots: Int32Array;
}

const UNKNOWN = 0;
const MATCH = 1;
const NO_MATCH = 2;
const OUT = 3; // fired (once mode) or retracted

// Shared by outcomes (frozen, so a caller that modifies one fails loudly instead of corrupting others).
const EMPTY = Object.freeze([]) as unknown as string[];

export interface EngineOptions {
  mode: RuleMode;
  maxCycles: number;
  /** Output names, sorted. */
  outputs: readonly string[];
  defaultRoutes: string[];
  log?: (rule: string, message: string) => void;
  /** The sub-expression cache the conditions were compiled with. */
  cache: ConditionCache;
  /** Index deciding which keyed rules can match an event at all. */
  discriminator?: Discriminator;
}

/** Evaluates one event at a time; not re-entrant (evaluation is synchronous, so that is enough). */
export class RuleEngine implements ActionSink {
  private readonly status: Uint8Array;
  private readonly routed: Uint8Array;
  private readonly byName = new Map<string, number>();
  private readonly volatileRules: number[];
  /** Initial status per event: keyed rules start as no-match until the index starts them. */
  private readonly initial: Uint8Array;
  private readonly startRule = (i: number): void => {
    this.status[i] = UNKNOWN;
  };
  private routeCount = 0;
  private dropRule: string | undefined;
  private deadReason: string | undefined;
  private deadRule: string | undefined;
  private completed = false;
  private current = '';

  constructor(
    /** Rules in priority order: salience descending, then declaration order. */
    private readonly rules: EngineRule[],
    private readonly options: EngineOptions,
  ) {
    this.status = new Uint8Array(rules.length);
    this.routed = new Uint8Array(options.outputs.length);
    rules.forEach((r, i) => this.byName.set(r.name, i));
    this.volatileRules = rules.flatMap((r, i) => (r.volatile ? [i] : []));
    this.initial = new Uint8Array(rules.length);
    const indexed = options.discriminator?.indexed;
    if (indexed) for (let i = 0; i < rules.length; i++) if (indexed[i]) this.initial[i] = NO_MATCH;
  }

  route(output: number): void {
    if (this.routed[output] === 0) {
      this.routed[output] = 1;
      this.routeCount++;
    }
  }

  drop(): void {
    this.dropRule ??= this.current;
  }

  deadLetter(reason: string): void {
    if (this.deadReason === undefined) {
      this.deadReason = reason;
      this.deadRule = this.current;
    }
  }

  retract(ruleName: string): void {
    const i = this.byName.get(ruleName);
    if (i !== undefined) this.status[i] = OUT;
  }

  complete(): void {
    this.completed = true;
  }

  log(message: string): void {
    this.options.log?.(this.current, message);
  }

  evaluate(event: CloudEventLike): RuleOutcome {
    this.reset();
    try {
      if (typeof event !== 'object' || event === null || Array.isArray(event)) {
        return this.deadOutcome(event, 'the event is not a JSON object', undefined);
      }
      this.run(event as EventObject);
    } catch (err) {
      // Only an engine bug or an exhausted stack lands here; the event is still accounted for.
      const message = err instanceof EvalFailure || err instanceof Error ? err.message : String(err);
      this.deadLetterAs(this.current || undefined, `rule evaluation failed: ${message}`);
    }
    return this.outcome(event);
  }

  private reset(): void {
    this.options.cache.nextEvent();
    this.status.set(this.initial);
    if (this.routeCount > 0) this.routed.fill(0);
    this.routeCount = 0;
    this.dropRule = undefined;
    this.deadReason = undefined;
    this.deadRule = undefined;
    this.completed = false;
    this.current = '';
  }

  private deadLetterAs(rule: string | undefined, reason: string): void {
    this.deadReason = reason;
    this.deadRule = rule;
  }

  private run(e: EventObject): void {
    const { rules, status } = this;
    const n = rules.length;
    const { maxCycles, mode, discriminator } = this.options;
    discriminator?.candidates(e, this.startRule);
    let cycle = 0;
    // Rules before `from` are known not to match (or are out) until an invalidation says otherwise,
    // so each cycle resumes the priority scan there instead of at the top.
    let from = 0;
    for (;;) {
      let chosen = -1;
      for (let i = from; i < n; i++) {
        const s = status[i];
        if (s === MATCH) {
          chosen = i;
          break;
        }
        if (s !== UNKNOWN) continue;
        let matched = false;
        try {
          matched = rules[i]!.when(e) === true;
        } catch {
          // A condition that fails at run time does not match (as in Grule).
        }
        if (matched) {
          status[i] = MATCH;
          chosen = i;
          break;
        }
        status[i] = NO_MATCH;
      }
      if (chosen < 0) return;
      const rule = rules[chosen]!;
      if (++cycle > maxCycles) {
        this.deadLetterAs(
          rule.name,
          `rules did not settle within ${maxCycles} cycles (rule ${rule.name} keeps matching)`,
        );
        return;
      }
      this.current = rule.name;
      if (mode === 'once') status[chosen] = OUT;
      try {
        for (const stmt of rule.then) stmt(e, this);
      } catch (err) {
        const message = err instanceof EvalFailure ? err.message : String(err);
        this.deadLetterAs(rule.name, `rule ${rule.name} failed: ${message}`);
        return;
      }
      if (this.completed || this.deadReason !== undefined) return;
      this.options.cache.invalidate(rule.invalidatesSlots);
      from = chosen;
      const inv = rule.invalidates;
      for (let k = 0; k < inv.length; k++) {
        const j = inv[k]!;
        if (status[j] !== OUT) {
          status[j] = UNKNOWN;
          if (j < from) from = j;
        }
      }
      for (const j of this.volatileRules) {
        if (status[j] !== OUT) {
          status[j] = UNKNOWN;
          if (j < from) from = j;
        }
      }
    }
  }

  private deadOutcome(event: unknown, reason: string, rule: string | undefined): RuleOutcome {
    const out: RuleOutcome = { outcome: 'deadletter', routes: EMPTY, reason, event: event as CloudEventLike };
    if (rule) out.rule = rule;
    return out;
  }

  private outcome(event: CloudEventLike): RuleOutcome {
    if (this.deadReason !== undefined) return this.deadOutcome(event, this.deadReason, this.deadRule);
    if (this.dropRule !== undefined) return { outcome: 'dropped', routes: EMPTY, rule: this.dropRule, event };
    if (this.routeCount === 0) {
      // With an empty defaultOutputs an unrouted event goes nowhere: that is a drop, and is counted so.
      const defaults = this.options.defaultRoutes;
      return defaults.length > 0
        ? { outcome: 'routed', routes: defaults, event }
        : { outcome: 'dropped', routes: EMPTY, event };
    }
    const { outputs } = this.options;
    const routes: string[] = [];
    for (let i = 0; i < outputs.length; i++) if (this.routed[i] === 1) routes.push(outputs[i]!);
    return { outcome: 'routed', routes, event };
  }
}
