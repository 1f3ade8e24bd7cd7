// wirecat's public API: every CLI verb is one of these calls.

export { type ConnectOptions, type ConnectResult, connect } from './client/connect.js';
export type { FaultOptions } from './client/faults.js';
export {
  type GetOptions,
  type GetResult,
  get,
  type ResponseHead,
} from './client/get.js';
export {
  type ProbeCheck,
  type ProbeOptions,
  type ProbeReport,
  type ProbeService,
  probe,
} from './client/probe.js';
export {
  type RelayEndpoint,
  type RelayHandle,
  type RelayOptions,
  type RelayResult,
  relay,
} from './client/relay.js';
export {
  fetchTftpUrl,
  type TftpClientOptions,
  type TftpTransferResult,
  tftpFetch,
  tftpGet,
  tftpPut,
} from './client/tftp.js';
export { type UdpRequestOptions, udpRequest } from './client/udp.js';
export {
  type Dashboard,
  type DashboardOptions,
  DEFAULT_DASHBOARD_ENDPOINT,
  startDashboard,
} from './dashboard/server.js';
export { isWirecatError, WirecatError, type WirecatErrorCode } from './errors.js';
export { LineDecoder } from './framing/line-decoder.js';
export { DEFAULT_LIMITS, type Limits } from './limits.js';
export {
  channels,
  EVENT_TYPES,
  type SocketEvent,
  type SocketEventType,
  subscribeAll,
} from './observe/channels.js';
export { hexLines, startHexDump } from './observe/hexdump.js';
export { renderMetrics } from './observe/metrics.js';
export { type Recorder, readRecording, startRecording } from './observe/record.js';
export { DEFAULT_STORE_LIMITS, EventStore, type StoreLimits } from './observe/store.js';
export { startTrace } from './observe/trace.js';
export {
  loadConfig,
  parseServiceSpec,
  parseServiceSpecs,
  type ServeConfig,
} from './server/bindings.js';
export {
  type Binding,
  Host,
  type HostOptions,
  type HostStats,
  type ListenerInfo,
} from './server/host.js';
export { type ServeOptions, serve } from './server/serve.js';
export {
  DEFAULT_MAX_FILE_BYTES,
  DEFAULT_MAX_NAME_BYTES,
  FileRoot,
  type FileRootOptions,
} from './services/file-root.js';
export {
  CLASSIC_SERVICES,
  type Service,
  type ServiceDefinition,
  type ServiceName,
  type ServiceSettings,
  services,
} from './services/index.js';
export { Conn, type StreamHandler } from './transport/conn.js';
export {
  type Endpoint,
  formatEndpoint,
  parseEndpoint,
  type Transport,
} from './transport/endpoint.js';
export { createSelfSignedCertificate } from './transport/self-signed.js';
export {
  loadServerCredentials,
  type TlsClientConfig,
  type TlsServerConfig,
} from './transport/tls.js';
