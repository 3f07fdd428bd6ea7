// A strict OCPP 1.6 client standing in for a charger in back-end tests.
import { RPCClient } from 'ocpp-rpc';

/** Not yet connected: call connect() (some tests assert on the connection itself). */
export function testCharger(port: number, identity: string): RPCClient {
  return new RPCClient({
    endpoint: `ws://127.0.0.1:${port}/ocpp`,
    identity,
    protocols: ['ocpp1.6'],
    strictMode: true,
    reconnect: false,
  } as ConstructorParameters<typeof RPCClient>[0]);
}

/** A call handler as ocpp-rpc's types declare it (async, params optional); the tests' handlers answer at once. */
export type ChargerHandler = NonNullable<Parameters<RPCClient['handle']>[1]>;
