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
    } & Pos)
  | ({ type: 'call'; name: string; args: Expr[]; star: boolean; distinct: boolean; namePos: Pos } & Pos)
  | ({ type: 'not'; operand: Expr } & Pos)
  | ({ type: 'neg'; operand: Expr } & Pos)
  | ({ type: 'binary'; op: BinaryOp; left: Expr; right: Expr; opPos: Pos } & Pos)
  | ({ type: 'isnull'; operand: Expr; negated: boolean } & Pos)
  | ({ type: 'in'; operand: Expr; list: Expr[]; negated: boolean } & Pos)
  | ({ type: 'like'; operand: Expr; pattern: Expr; negated: boolean } & Pos)
  | ({ type: 'case'; subject?: Expr; whens: { when: Expr; then: Expr }[]; otherwise?: Expr } & Pos);

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

export interface QueryNode {
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
