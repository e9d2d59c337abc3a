import type { JsonValue } from '../../protocol/message';

/**
 * The `broker` object of Celery's `stats` (Flower shows it), read from the transport's display URL
 * (passwords are already masked there). Failover URLs (`a;b`) list the others as `alternates`.
 */
export function brokerInfo(displayUrl: string): Record<string, JsonValue> {
  const [first = '', ...alternates] = displayUrl.split(';').map((url) => url.trim());
  let url: URL | undefined;
  try {
    url = new URL(first);
  } catch {
    url = undefined;
  }
  const scheme = url?.protocol.replace(/:$/, '') ?? 'unknown';
  const ssl = scheme === 'amqps';
  return {
    hostname: url?.hostname || null,
    userid: url?.username ? decodeURIComponent(url.username) : null,
    virtual_host: url ? decodeURIComponent(url.pathname.replace(/^\//, '')) || '/' : null,
    port: url?.port ? Number(url.port) : scheme.startsWith('amqp') ? (ssl ? 5671 : 5672) : null,
    insist: false,
    ssl,
    transport: scheme === 'amqps' || scheme === 'pyamqp' ? 'amqp' : scheme,
    connect_timeout: null,
    transport_options: {},
    login_method: 'PLAIN',
    uri_prefix: null,
    heartbeat: null,
    failover_strategy: 'round-robin',
    alternates,
  };
}

/** Celery's `stats.rusage` (getrusage names; times in seconds, maxrss in KiB). */
export function resourceUsage(): Record<string, JsonValue> {
  const usage = process.resourceUsage();
  return {
    utime: usage.userCPUTime / 1e6,
    stime: usage.systemCPUTime / 1e6,
    maxrss: usage.maxRSS,
    ixrss: usage.sharedMemorySize,
    idrss: usage.unsharedDataSize,
    isrss: usage.unsharedStackSize,
    minflt: usage.minorPageFault,
    majflt: usage.majorPageFault,
    nswap: usage.swappedOut,
    inblock: usage.fsRead,
    oublock: usage.fsWrite,
    msgsnd: usage.ipcSent,
    msgrcv: usage.ipcReceived,
    nsignals: usage.signalsCount,
    nvcsw: usage.voluntaryContextSwitches,
    nivcsw: usage.involuntaryContextSwitches,
  };
}
