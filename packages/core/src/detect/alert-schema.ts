/**
 * JSON Schema (draft 2020-12) of an alert as syscan writes it (`--format json|ndjson`, the
 * runner's result, the guard's 403 lists a redacted subset). Each field says which Falco
 * field and which ECS field it corresponds to, so SIEM mappings can be written from it.
 */
import { SEVERITIES } from '../severity.js';
import { ALERT_TYPES } from './alert.js';

const processSchema = {
  type: 'object',
  description: 'The process that made the call (Falco proc.*, ECS process.*).',
  required: ['pid'],
  properties: {
    pid: { type: 'integer', description: 'Falco proc.pid, ECS process.pid.' },
    ppid: { type: 'integer', description: 'Falco proc.ppid, ECS process.parent.pid.' },
    exe: { type: 'string', description: 'Falco proc.exepath, ECS process.executable.' },
    comm: { type: 'string', description: 'Falco proc.name, ECS process.name.' },
    argv: {
      type: 'array',
      items: { type: 'string' },
      description: 'Falco proc.args (after argv[0]), ECS process.args.',
    },
    cwd: { type: 'string', description: 'Falco proc.cwd, ECS process.working_directory.' },
    uid: { type: 'integer', description: 'Falco user.uid, ECS user.id.' },
    euid: { type: 'integer', description: 'ECS user.effective.id.' },
    gid: { type: 'integer', description: 'Falco group.gid, ECS group.id.' },
    egid: { type: 'integer', description: 'ECS group.effective.id.' },
    auid: { type: 'integer', description: 'Falco user.loginuid, ECS user.audit.id.' },
    user: { type: 'string', description: "uid's name on the log's host: Falco user.name, ECS user.name." },
    loginUser: {
      type: 'string',
      description: "auid's name on the log's host: Falco user.loginname, ECS user.audit.name.",
    },
    ses: { type: 'integer', description: 'Audit session id (ECS process.session_leader.entity_id).' },
    tty: { type: 'string', description: 'Falco proc.tty, ECS process.tty.' },
  },
} as const;

const addressSchema = {
  type: 'object',
  description: 'A socket end (Falco fd.sip/fd.sport/fd.l4proto, ECS destination.*).',
  required: ['family'],
  properties: {
    family: { enum: ['inet', 'inet6', 'unix', 'netlink', 'other'] },
    address: { type: 'string', description: 'ECS destination.ip.' },
    port: { type: 'integer', description: 'ECS destination.port.' },
    path: { type: 'string', description: 'AF_UNIX path; abstract names start with @.' },
    protocol: {
      enum: ['tcp', 'udp', 'raw', 'other'],
      description: 'Falco fd.l4proto, ECS network.transport.',
    },
  },
} as const;

/** JSON Schema of one alert. */
export const alertJsonSchema: Readonly<Record<string, unknown>> = Object.freeze({
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://syscan.dev/schema/alert.json',
  title: 'syscan alert',
  type: 'object',
  required: ['type', 'severity', 'message', 'count'],
  properties: {
    type: { enum: ALERT_TYPES, description: 'What the alert is about (Falco: the rule; ECS event.type).' },
    severity: {
      enum: SEVERITIES,
      description: 'ECS event.severity (as a word); Falco priority for rule alerts.',
    },
    message: {
      type: 'string',
      description: "The seed's wording for seed types; Falco output for rules. ECS message.",
    },
    syscall: { type: 'string', description: 'Falco evt.type, ECS event.action.' },
    count: {
      type: 'integer',
      minimum: 1,
      description: 'Events merged into this alert (rate alerts: the peak).',
    },
    limit: { type: 'integer', description: 'The limit passed (rate alerts).' },
    sample: {
      type: 'string',
      description: 'The trace line, cut to about 240 characters (ECS event.original).',
    },
    line: { type: 'integer', description: 'Line of the input (ECS log.file.line).' },
    input: { type: 'string', description: 'The input file (ECS log.file.path).' },
    pid: { type: 'integer' },
    time: {
      type: 'number',
      description: 'Event time in ms (epoch for audit and strace -ttt; see SyscallEvent.time).',
    },
    errno: { type: 'string', description: 'Falco evt.res for failed calls, ECS error.code.' },
    process: processSchema,
    paths: { type: 'array', items: { type: 'string' }, description: 'Falco fd.name, ECS file.path (first).' },
    peer: addressSchema,
    host: { type: 'string', description: 'Falco hostname, ECS host.name (audit node=).' },
    key: { type: 'string', description: 'Audit rule key (ECS tags / auditd.data.key).' },
    signal: { type: 'string', description: 'Signal of a crash or kill (ECS process.exit_code as a name).' },
    targets: {
      type: 'array',
      description: 'Distinct targets of a merged alert, most frequent first.',
      items: {
        type: 'object',
        required: ['target', 'count'],
        properties: { target: { type: 'string' }, count: { type: 'integer' } },
      },
    },
    rule: { type: 'string', description: 'Falco rule name (ECS rule.name).' },
    tags: { type: 'array', items: { type: 'string' }, description: 'Falco tags (ECS tags).' },
    action: {
      enum: ['alert', 'deny', 'kill'],
      description: "What enforcement does (syscan's rule extension).",
    },
    score: { type: 'number', description: 'Sequence model score (higher = more anomalous).' },
    threshold: { type: 'number', description: 'Calibrated sequence threshold.' },
    details: {
      type: 'object',
      description: "The producer's own facts (LSM fields, the model's explanation).",
    },
  },
});
