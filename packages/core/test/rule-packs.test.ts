/**
 * The shipped rule packs' generated modules against their .yaml: the text must be the file's,
 * and the pre-parsed items (what loading a pack uses instead of its YAML) must be exactly what
 * the YAML reader makes of it, or a pack edited without rerunning the generator would be
 * judged by its old rules.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadRules } from '../src/rules/index.js';
import { AGENT_TOOLS_RULES } from '../src/rules/packs/index.js';
import type { RuleSource } from '../src/rules/types.js';
import { type RawItem, readRuleItems, sourceItems } from '../src/rules/yaml-items.js';

const packsDir = new URL('../src/rules/packs/', import.meta.url);
const generator = fileURLToPath(new URL('../scripts/gen-rule-packs.mjs', import.meta.url));
/** Every shipped pack, by the name of its .yaml. */
const SHIPPED: Record<string, RuleSource> = { 'agent-tools': AGENT_TOOLS_RULES };

function itemsOf(source: RuleSource): { items: RawItem[]; ignored: string[] } {
  const ignored: string[] = [];
  const items = sourceItems(source, (line, what) => ignored.push(`${line}:${what}`));
  return { items, ignored };
}

describe('shipped rule packs', () => {
  it('every .yaml has a generated module, exported here', () => {
    const yamls = readdirSync(packsDir).filter((f) => f.endsWith('.yaml'));
    expect(yamls.map((f) => f.slice(0, -'.yaml'.length)).sort()).toEqual(Object.keys(SHIPPED).sort());
  });

  it('each generated module is what the generator makes of its .yaml now', () => {
    // Fails after a .yaml edit until `node packages/core/scripts/gen-rule-packs.mjs` is rerun.
    const run = spawnSync(process.execPath, [generator, '--check'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  for (const [name, pack] of Object.entries(SHIPPED)) {
    describe(name, () => {
      const yaml = readFileSync(new URL(`${name}.yaml`, packsDir), 'utf8');

      it('holds the .yaml text', () => {
        expect(pack.text).toBe(yaml);
        expect(Object.isFrozen(pack)).toBe(true);
      });

      it('its pre-parsed items are what the YAML reader reads from that text', () => {
        const ignored: string[] = [];
        const parsed = readRuleItems(pack.name, yaml, (line, what) => ignored.push(`${line}:${what}`));
        const shipped = itemsOf(pack);
        expect(shipped.items).toEqual(parsed);
        expect(shipped.ignored).toEqual(ignored);
        // A copy is someone else's source: read from its text, with the same result.
        const copy = itemsOf({ name: pack.name, text: pack.text });
        expect(copy.items).toEqual(parsed);
      });

      it('loads to the same rules and warnings as its YAML does', () => {
        const fast = loadRules([pack]);
        const slow = loadRules([{ name: pack.name, text: pack.text }]);
        expect(fast.warnings).toEqual(slow.warnings);
        expect(fast.rules).toEqual(slow.rules);
      });

      it('hands out fresh items on each load, so one load cannot change the next', () => {
        const first = itemsOf(pack).items;
        first[0]!.data.poisoned = true;
        (first[0]!.keyLines as Map<string, number>).clear();
        const second = itemsOf(pack).items;
        expect(second[0]!.data.poisoned).toBeUndefined();
        expect(second[0]!.keyLines.size).toBeGreaterThan(0);
      });
    });
  }

  it("a user's file with the pack's name still goes through the YAML reader", () => {
    // Same name, other text: nothing pre-parsed may stand in for it.
    const mine = { name: AGENT_TOOLS_RULES.name, text: '- list: mine\n  items: [a]\n' };
    expect(itemsOf(mine).items.map((i) => i.name)).toEqual(['mine']);
    expect(() => loadRules([{ name: AGENT_TOOLS_RULES.name, text: '- rule: [' }])).toThrow(/not valid YAML/);
  });
});
