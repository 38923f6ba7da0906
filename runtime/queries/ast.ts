// The query syntax tree. Every node keeps the 1-based line and column of its first token, and the
// source offsets it spans, so checks can point at it and unnamed columns can be named after it.

export interface Pos {
  line: number;
  column: number;
  /** 0-based offsets of the node's text in the SQL: [start, end). */
  start: number;
  end: number;
}

export type Literal = string | number | boolean | null;

/** One step of a field path: `.name`, `['name']` or `[0]`. */
export type Segment = string | number;

export type BinaryOp =
  'or' | 'and' | '=' | '<>' | '<' | '<=' | '>' | '>=' | '||' | '+' | '-' | '*' | '/' | '%';

export type Expr =
  | ({ type: 'literal'; value: Literal } & Pos)
  /**
   * `root.seg…` as written. The checker moves a leading alias or source name into `qualifier`, so
   * after checking `root` is the CloudEvents attribute, extension or window column read.
   */
  | ({
      type: 'field';
      qualifier?: string;
      root: string;
      rootPos: Pos;
      path: Segment[];
      segPos: Pos[];
      /** Set by the checker when the qualifier is a pattern variable or a join side (bindings.ts). */
      bind?: FieldBinding;
    } & Pos)
  | ({
      type: 'call';
      name: string;
      args: Expr[];
      star: boolean;
      distinct: boolean;
      namePos: Pos;
      /** Set by the checker for an aggregate in a pattern query: the slot of the variable it runs over. */
      over?: number;
    } & Pos)
  | ({ type: 'not'; operand: Expr } & Pos)
  | ({ type: 'neg'; operand: Expr } & Pos)
  | ({ type: 'binary'; op: BinaryOp; left: Expr; right: Expr; opPos: Pos } & Pos)
  | ({ type: 'isnull'; operand: Expr; negated: boolean } & Pos)
  | ({ type: 'in'; operand: Expr; list: Expr[]; negated: boolean } & Pos)
  | ({ type: 'like'; operand: Expr; pattern: Expr; negated: boolean } & Pos)
  | ({ type: 'case'; subject?: Expr; whens: { when: Expr; then: Expr }[]; otherwise?: Expr } & Pos);

/**
 * A field read from a bound event: a pattern variable or a join side. `slot` indexes the row
 * context's bound lists; `index` picks one event of a quantified variable (−1: the last); `row`
 * marks a lookup table's row, whose fields are its columns.
 */
export interface FieldBinding {
  name: string;
  slot: number;
  index?: number;
  row?: boolean;
}

export interface SelectItem {
  expr: Expr;
  /** The `AS` name, when given. */
  alias?: string;
  aliasPos?: Pos;
}

export type WindowKind = 'tumbling' | 'hopping' | 'session' | 'sliding' | 'count';

/** A number with its position: a duration in milliseconds, or a count for COUNT windows. */
export interface Amount extends Pos {
  value: number;
}

export interface WindowNode extends Pos {
  kind: WindowKind;
  size?: Amount;
  advance?: Amount;
  gap?: Amount;
  grace?: Amount;
}

/** One step of a pattern: `[EVERY] var=source[cond] [{n} | {n,m} | {n,}]`. */
export interface PatternStep extends Pos {
  type: 'step';
  every: boolean;
  everyPos?: Pos;
  name: string;
  namePos: Pos;
  source: string;
  sourcePos: Pos;
  cond?: Expr;
  min: number;
  /** Infinity for `{n,}`. */
  max: number;
  quantPos?: Pos;
}

/** `NOT source[cond] FOR d`: no such event for d after the previous step. */
export interface PatternAbsence extends Pos {
  type: 'absent';
  source: string;
  sourcePos: Pos;
  cond?: Expr;
  forMs: Amount;
}

/** `step AND step …` (all of them, in any order) or `step OR step …` (the first of them). */
export interface PatternChoice extends Pos {
  type: 'and' | 'or';
  steps: PatternElement[];
}

export interface PatternGroup extends Pos {
  type: 'group';
  every: boolean;
  everyPos?: Pos;
  elements: PatternElement[];
}

export type PatternElement = PatternStep | PatternAbsence | PatternChoice | PatternGroup;

export interface PatternNode extends Pos {
  /** PATTERN: other events may come between steps; SEQUENCE: strictly consecutive. */
  strict: boolean;
  elements: PatternElement[];
  within?: Amount;
  grace?: Amount;
  partitionBy: Expr[];
  partitionPos?: Pos;
}

export interface JoinNode extends Pos {
  left: boolean;
  /** The source or table joined. */
  target: string;
  targetPos: Pos;
  alias: string;
  aliasPos: Pos;
  /** Present for an interval join of two streams. */
  within?: Amount;
  grace?: Amount;
  on: Expr;
}

export interface QueryNode {
  pattern?: PatternNode;
  join?: JoinNode;
  select: SelectItem[];
  selectPos: Pos;
  source: string;
  sourcePos: Pos;
  alias?: string;
  aliasPos?: Pos;
  where?: Expr;
  window?: WindowNode;
  groupBy: Expr[];
  groupByPos?: Pos;
  having?: Expr;
  havingPos?: Pos;
  emit?: { mode: 'final' | 'changes'; pos: Pos; modePos: Pos };
}
