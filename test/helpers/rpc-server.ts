// ocpp-rpc's server, typed as far as the in-test CSMSs use it (the package ships no types).
import ocppRpc from 'ocpp-rpc';

export interface RpcClient {
  identity: string;
  handle(fn: (e: { method: string; params: any }) => unknown): void;
  call(method: string, params: object): Promise<any>;
  /** Every frame, in and out, as text. */
  on(ev: 'message', fn: (e: { message: string; outbound: boolean }) => void): void;
  /** The connection closed (cleanly or not). */
  on(ev: 'close', fn: (e: { code: number; reason: string }) => void): void;
  /** A frame exactly as given, valid or not. */
  sendRaw(frame: string): void;
}

export interface RpcServer {
  on(ev: 'client', fn: (c: RpcClient) => void): void;
  listen(port: number, host: string): Promise<import('node:http').Server>;
  close(o?: object): Promise<void>;
}

export const { RPCServer } = ocppRpc as unknown as { RPCServer: new (o: object) => RpcServer };
