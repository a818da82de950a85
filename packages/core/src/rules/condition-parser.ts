/**
 * Falco's filter language, read into a {@link ConditionNode} tree:
 *
 *   expr    := and ('or' and)*
 *   and     := not ('and' not)*
 *   not     := 'not' not | primary
 *   primary := '(' expr ')' | field 'exists' | field OP value | field LISTOP '(' value, … ')' | macro
 *   field   := name ('[' arg ']')? | transformer '(' field ')'
 *   value   := "quoted" | 'quoted' | bare-word | val '(' field ')'
 *
 * Keywords and word operators are case-sensitive, as in Falco. A bare word runs to the next
 * space, `(`, `)` or `,`, so `evt.dir = <` and `fd.sip = fd00:ec2::254` need no quotes.
 */
import {
  COMPARE_OPS,
  type CompareOp,
  type ConditionNode,
  type FieldRef,
  LIST_OPS,
  type ValueNode,
} from './ast.js';

/** A syntax error at `offset` of the condition text; the loader adds file, line and rule. */
export class ConditionSyntaxError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = 'ConditionSyntaxError';
    this.offset = offset;
  }
}

type Token =
  | { t: 'lparen' | 'rparen' | 'comma' | 'eof'; offset: number }
  | { t: 'op'; text: string; offset: number }
  | { t: 'str'; text: string; offset: number }
  | { t: 'word'; text: string; offset: number };

/** Bounds for hostile input: Falco's own rules nest a few levels and run to a few KB. */
const MAX_NESTING = 200;
const MAX_CONDITION_LENGTH = 1_000_000;

const TRANSFORMERS: ReadonlySet<string> = new Set(['tolower', 'toupper', 'basename', 'len', 'b64']);
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*(\[[^\]\s]*\])?$/;
/** Longest symbol operators first. */
const SYMBOL_OPS = ['==', '!=', '<=', '>=', '=', '<', '>'];

function lex(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const offset = i;
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ t: c === '(' ? 'lparen' : c === ')' ? 'rparen' : 'comma', offset });
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let out = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new ConditionSyntaxError('unterminated string', offset);
        const d = text[i]!;
        if (d === '\\' && i + 1 < text.length) {
          const e = text[i + 1]!;
          out += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          i += 2;
          continue;
        }
        i++;
        if (d === c) break;
        out += d;
      }
      tokens.push({ t: 'str', text: out, offset });
      continue;
    }
    const symbol = SYMBOL_OPS.find((op) => text.startsWith(op, i));
    if (symbol !== undefined) {
      tokens.push({ t: 'op', text: symbol === '==' ? '=' : symbol, offset });
      i += symbol.length;
      continue;
    }
    // A bare word: a field, keyword, macro or value. It stops before an operator only when it
    // looks like a field name so far (`fd.name=/etc` splits at `=`, `a=b` inside a value does not
    // occur unquoted in Falco rules).
    let j = i;
    while (j < text.length && !' \t\n\r(),"\''.includes(text[j]!)) {
      if ('=!<>'.includes(text[j]!) && j > i && FIELD_NAME.test(text.slice(i, j))) break;
      if ('=!<>'.includes(text[j]!) && j === i) break;
      j++;
    }
    if (j === i) {
      // A lone `!` or similar that is not an operator.
      throw new ConditionSyntaxError(`unexpected character '${c}'`, offset);
    }
    tokens.push({ t: 'word', text: text.slice(i, j), offset });
    i = j;
  }
  tokens.push({ t: 'eof', offset: text.length });
  return tokens;
}

/** Parses a condition; throws {@link ConditionSyntaxError} with the offset of the problem. */
export function parseCondition(text: string): ConditionNode {
  if (text.length > MAX_CONDITION_LENGTH)
    throw new ConditionSyntaxError(`condition longer than ${MAX_CONDITION_LENGTH} characters`, 0);
  const tokens = lex(text);
  let pos = 0;
  let depth = 0;
  const peek = (): Token => tokens[pos]!;
  const next = (): Token => tokens[pos++]!;
  const isWord = (tok: Token, word: string): boolean => tok.t === 'word' && tok.text === word;
  const describe = (tok: Token): string =>
    tok.t === 'eof'
      ? 'end of condition'
      : tok.t === 'word' || tok.t === 'op'
        ? `'${tok.text}'`
        : tok.t === 'str'
          ? `"${tok.text}"`
          : `'${tok.t === 'lparen' ? '(' : tok.t === 'rparen' ? ')' : ','}'`;

  function parseOr(): ConditionNode {
    const first = parseAnd();
    const children = [first];
    while (isWord(peek(), 'or')) {
      next();
      children.push(parseAnd());
    }
    return children.length === 1 ? first : { kind: 'or', children, offset: first.offset };
  }

  function parseAnd(): ConditionNode {
    const first = parseNot();
    const children = [first];
    while (isWord(peek(), 'and')) {
      next();
      children.push(parseNot());
    }
    return children.length === 1 ? first : { kind: 'and', children, offset: first.offset };
  }

  function parseNot(): ConditionNode {
    const tok = peek();
    // Nesting is bounded so that hostile input is a syntax error, not a stack overflow.
    if (++depth > MAX_NESTING)
      throw new ConditionSyntaxError(`nested deeper than ${MAX_NESTING} levels`, tok.offset);
    try {
      if (isWord(tok, 'not')) {
        next();
        return { kind: 'not', child: parseNot(), offset: tok.offset };
      }
      return parsePrimary();
    } finally {
      depth--;
    }
  }

  function parsePrimary(): ConditionNode {
    const tok = peek();
    if (tok.t === 'lparen') {
      next();
      const inner = parseOr();
      const close = next();
      if (close.t !== 'rparen')
        throw new ConditionSyntaxError(`expected ')', found ${describe(close)}`, close.offset);
      return inner;
    }
    if (tok.t !== 'word' || tok.text === 'and' || tok.text === 'or') {
      throw new ConditionSyntaxError(`expected a field, macro or '(', found ${describe(tok)}`, tok.offset);
    }
    const after = tokens[pos + 1]!;
    const startsField = TRANSFORMERS.has(tok.text) && after.t === 'lparen';
    if (!startsField && !isOperator(after)) {
      next();
      if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(tok.text)) {
        throw new ConditionSyntaxError(`'${tok.text}' is not a field comparison or a macro name`, tok.offset);
      }
      return { kind: 'macro', name: tok.text, offset: tok.offset };
    }
    const field = parseField();
    const opTok = next();
    if (isWord(opTok, 'exists')) return { kind: 'exists', field, offset: tok.offset };
    const op = opTok.t === 'op' || opTok.t === 'word' ? (opTok.text as CompareOp) : undefined;
    if (op === undefined || !COMPARE_OPS.has(op)) {
      throw new ConditionSyntaxError(
        `expected an operator after '${field.name}', found ${describe(opTok)}`,
        opTok.offset,
      );
    }
    if (LIST_OPS.has(op) && peek().t === 'lparen') {
      next();
      const items: ValueNode[] = [];
      if (peek().t !== 'rparen') {
        for (;;) {
          items.push(parseValue());
          const sep = next();
          if (sep.t === 'rparen') break;
          if (sep.t !== 'comma')
            throw new ConditionSyntaxError(`expected ',' or ')' in list, found ${describe(sep)}`, sep.offset);
        }
      } else next();
      return { kind: 'list', field, op, items, offset: tok.offset };
    }
    if (op === 'in' || op === 'intersects') {
      throw new ConditionSyntaxError(`'${op}' needs a parenthesised list`, peek().offset);
    }
    return { kind: 'compare', field, op, value: parseValue(), offset: tok.offset };
  }

  function isOperator(tok: Token): boolean {
    return tok.t === 'op' || (tok.t === 'word' && (COMPARE_OPS.has(tok.text) || tok.text === 'exists'));
  }

  function parseField(): FieldRef {
    const tok = next();
    if (tok.t !== 'word')
      throw new ConditionSyntaxError(`expected a field, found ${describe(tok)}`, tok.offset);
    if (TRANSFORMERS.has(tok.text) && peek().t === 'lparen') {
      next();
      const inner = parseField();
      const close = next();
      if (close.t !== 'rparen')
        throw new ConditionSyntaxError(`expected ')' after ${tok.text}(…`, close.offset);
      inner.transforms.push(tok.text);
      return inner;
    }
    return fieldRefFromText(tok.text, tok.offset);
  }

  function parseValue(): ValueNode {
    const tok = next();
    if (tok.t === 'str') return { kind: 'literal', text: tok.text, quoted: true, offset: tok.offset };
    if (tok.t === 'word' && tok.text === 'val' && peek().t === 'lparen') {
      next();
      const field = parseField();
      const close = next();
      if (close.t !== 'rparen') throw new ConditionSyntaxError(`expected ')' after val(…`, close.offset);
      return { kind: 'field', field, offset: tok.offset };
    }
    // `evt.dir = <` and `>`: a symbol operator in value position is the value itself.
    if (tok.t === 'word' || tok.t === 'op')
      return { kind: 'literal', text: tok.text, quoted: false, offset: tok.offset };
    throw new ConditionSyntaxError(`expected a value, found ${describe(tok)}`, tok.offset);
  }

  const tree = parseOr();
  const rest = peek();
  if (rest.t !== 'eof')
    throw new ConditionSyntaxError(`unexpected ${describe(rest)} after a complete condition`, rest.offset);
  return tree;
}

/** `proc.aname[2]` → name `proc.aname`, arg `2`. Exported for output templates and exceptions. */
export function fieldRefFromText(text: string, offset = 0): FieldRef {
  const bracket = text.indexOf('[');
  if (bracket > 0) {
    if (!text.endsWith(']')) throw new ConditionSyntaxError(`malformed field '${text}'`, offset);
    return { name: text.slice(0, bracket), arg: text.slice(bracket + 1, -1), transforms: [], offset };
  }
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(text))
    throw new ConditionSyntaxError(`malformed field '${text}'`, offset);
  return { name: text, transforms: [], offset };
}
