// The GRL syntax tree. Every node keeps the 1-based line and column of its first token so that
// static checks and run-time errors can point at the source.

export interface Pos {
  line: number;
  column: number;
}

export type Literal =
  | { kind: 'string'; value: string }
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'nil' };

export type BinaryOp =
  '*' | '/' | '%' | '+' | '-' | '&' | '|' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '&&' | '||';

export type Expr =
  | ({ type: 'literal'; literal: Literal } & Pos)
  | ({ type: 'var'; name: string } & Pos)
  | ({ type: 'member'; object: Expr; name: string } & Pos)
  | ({ type: 'index'; object: Expr; index: Expr } & Pos)
  | ({ type: 'call'; name: string; args: Expr[] } & Pos)
  | ({ type: 'method'; object: Expr; name: string; args: Expr[] } & Pos)
  | ({ type: 'not'; operand: Expr } & Pos)
  | ({ type: 'binary'; op: BinaryOp; left: Expr; right: Expr } & Pos);

export type AssignOp = '=' | '+=' | '-=' | '*=' | '/=';

export type Statement =
  ({ type: 'assign'; op: AssignOp; target: Expr; value: Expr } & Pos) | ({ type: 'expr'; expr: Expr } & Pos);

export interface RuleNode extends Pos {
  name: string;
  description: string;
  salience: number;
  when: Expr;
  then: Statement[];
  /** Position in the source, used to break salience ties. */
  index: number;
}

export interface RuleSetNode {
  rules: RuleNode[];
}
