import { connect, type Socket } from 'node:net';

/** One command Redis ran, as MONITOR reports it. */
export interface MonitoredCommand {
  /** The command and its arguments, unquoted (binary arguments as Redis escaped them). */
  args: string[];
  /** `lua` for a command a script ran, else the client's address. */
  source: string;
}

/** A MONITOR session: the commands Redis ran since it started. */
export interface RedisMonitor {
  readonly commands: readonly MonitoredCommand[];
  /** Stops monitoring; every command Redis ran before `stop` was called is in {@link commands}. */
  stop(): Promise<void>;
}

/**
 * Starts MONITOR on a raw socket (ioredis' `monitor()` can take a monitor line that arrives in the
 * same read as MONITOR's `+OK` for a reply, and throw "Command queue state error", on a busy Redis).
 * Resolves once Redis confirmed it: every command run afterwards is seen.
 */
export async function startMonitor(url: string): Promise<RedisMonitor> {
  const socket = open(url);
  const commands: MonitoredCommand[] = [];
  let buffered = '';
  let confirmed: (() => void) | undefined;
  let pingAnswered: (() => void) | undefined;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let end: number;
    while ((end = buffered.indexOf('\r\n')) >= 0) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      if (line === '+OK') {
        const done = confirmed;
        confirmed = undefined;
        done?.();
        continue;
      }
      const parsed = parseMonitorLine(line);
      if (parsed) {
        commands.push(parsed);
        if (parsed.args[0]?.toLowerCase() === 'echo' && parsed.args[1] === MARK) pingAnswered?.();
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  // Its AUTH (when the URL has credentials) is answered +OK too: MONITOR follows it.
  if (new URL(url).password) await new Promise<void>((resolve) => (confirmed = resolve));
  socket.write('MONITOR\r\n');
  await new Promise<void>((resolve) => (confirmed = resolve));
  return {
    commands,
    async stop() {
      // A marker sent on another connection after everything before it: seen means all before it were seen.
      const marker = open(url);
      const seen = new Promise<void>((resolve) => (pingAnswered = resolve));
      marker.write(`ECHO ${MARK}\r\n`);
      await Promise.race([seen, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      marker.destroy();
      socket.destroy();
    },
  };
}

const MARK = 'monitor-stop-marker';

/** A raw connection to the Redis of `url`, its AUTH (when the URL has credentials) already written. */
function open(url: string): Socket {
  const { hostname, port, password, username } = new URL(url);
  const socket = connect(Number(port || 6379), hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1');
  if (password) socket.write(`AUTH ${username ? `${decodeURIComponent(username)} ` : ''}${decodeURIComponent(password)}\r\n`);
  return socket;
}

/** `1796…  [0 127.0.0.1:5000] "SET" "k" "v"` or `… [0 lua] …` → its arguments and source. */
function parseMonitorLine(line: string): MonitoredCommand | null {
  const match = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] (.*)$/.exec(line);
  if (!match) return null;
  const args = [...match[2]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\"/g, '"').replace(/\\\\/g, '\\'));
  return { source: match[1]!, args };
}
