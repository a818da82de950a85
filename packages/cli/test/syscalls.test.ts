import { describe, expect, it } from 'vitest';
import { errorLines, runCli } from './helpers/cli.js';

describe('syscan syscalls', () => {
  it('looks up numbers and names both ways', async () => {
    expect((await runCli(['syscalls', '--arch', 'x86_64', '59'])).stdout).toBe('execve\n');
    expect((await runCli(['syscalls', '--arch', 'x86_64', 'execve'])).stdout).toBe('59\n');
    const r = await runCli(['syscalls', '--arch', 'aarch64', 'openat']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('56\n');
  });

  it('accepts audit arch ids and aliases', async () => {
    expect((await runCli(['syscalls', '--arch', 'c00000b7', '56'])).stdout).toBe('openat\n');
    expect((await runCli(['syscalls', '--arch', 'arm64', '56'])).stdout).toBe('openat\n');
  });

  it('prints JSON', async () => {
    const r = await runCli(['syscalls', '--arch', 'i386', '--json', '11']);
    expect(JSON.parse(r.stdout)).toEqual({ arch: 'i386', number: 11, name: 'execve' });
  });

  it('prints the whole table of an arch', async () => {
    const r = await runCli(['syscalls', '--arch', 'x86_64']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(300);
    expect(lines[0]).toBe('0\tread');
    expect(lines).toContain('257\topenat');
    const json = JSON.parse((await runCli(['syscalls', '--arch', 'riscv64', '--json'])).stdout);
    expect(json.arch).toBe('riscv64');
    expect(json.syscalls).toContainEqual({ number: 56, name: 'openat' });
  });

  it('rejects an unknown arch, listing the valid ones', async () => {
    const r = await runCli(['syscalls', '--arch', 'vax', 'read']);
    expect(r.code).toBe(2);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^syscan: unknown arch 'vax'; valid: .*x86_64.*aarch64/);
  });

  it('rejects an unknown name or number, saying where a name exists', async () => {
    const r = await runCli(['syscalls', '--arch', 'aarch64', 'open']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^syscan: no syscall 'open' on aarch64 \(it exists on .*x86_64/);
    const n = await runCli(['syscalls', '--arch', 'x86_64', '99999']);
    expect(n.code).toBe(2);
    expect(n.stderr).toContain('no syscall number 99999 on x86_64');
  });
});
