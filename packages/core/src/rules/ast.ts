/**
 * The syntax tree of a Falco condition, as the parser reads it (before macros and lists are
 * resolved). `offset` is the node's position in the condition text, for error messages.
 */

/** Comparison operators of Falco's filter language. */
export type CompareOp =
  | '='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | 'contains'
  | 'icontains'
  | 'bcontains'
  | 'startswith'
  | 'bstartswith'
  | 'endswith'
  | 'glob'
  | 'iglob'
  | 'pmatch'
  | 'regex'
  | 'in'
  | 'intersects';

/** Every binary operator, in the spelling the lexer accepts (`==` is read as `=`). */
export const COMPARE_OPS: ReadonlySet<string> = new Set<CompareOp>([
  '=',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  'contains',
  'icontains',
  'bcontains',
  'startswith',
  'bstartswith',
  'endswith',
  'glob',
  'iglob',
  'pmatch',
  'regex',
  'in',
  'intersects',
]);

/** Operators whose right side is a parenthesised list. */
export const LIST_OPS: ReadonlySet<CompareOp> = new Set<CompareOp>(['in', 'intersects', 'pmatch']);

/** A field reference: `proc.aname[2]`, `evt.arg.flags`, optionally wrapped in transformers (`tolower(proc.name)`). */
export interface FieldRef {
  /** Field name as written, without argument: `proc.aname`, `evt.arg`. */
  name: string;
  /** `[N]` or `.NAME` argument, as written. */
  arg?: string | undefined;
  /** Transformers, innermost first: `tolower(basename(fd.name))` → `['basename', 'tolower']`. */
  transforms: string[];
  offset: number;
}

/** A right-hand value: a literal (quoted or bare) or another field (`val(proc.pname)`). */
export type ValueNode =
  | { kind: 'literal'; text: string; quoted: boolean; offset: number }
  | { kind: 'field'; field: FieldRef; offset: number };

export type ConditionNode =
  | { kind: 'and'; children: ConditionNode[]; offset: number }
  | { kind: 'or'; children: ConditionNode[]; offset: number }
  | { kind: 'not'; child: ConditionNode; offset: number }
  /** A bare identifier: a macro reference. */
  | { kind: 'macro'; name: string; offset: number }
  | { kind: 'exists'; field: FieldRef; offset: number }
  | { kind: 'compare'; field: FieldRef; op: CompareOp; value: ValueNode; offset: number }
  /** `in`/`intersects`/`pmatch` with `(a, b, list_name)`: items not yet expanded. */
  | { kind: 'list'; field: FieldRef; op: CompareOp; items: ValueNode[]; offset: number };
