import { Agent, type Dispatcher } from "undici";

/**
 * A dispatcher for the relay WebSocket that reports the HTTP status of each upgrade response.
 *
 * A WebSocket that fails its handshake only fires `error` and `close` (1006) — the WHATWG API
 * hides the status on purpose — yet the agent must tell "token rejected" (401/403: back off for
 * minutes and say so) from "server restarting" (502/503: retry soon). undici lets the WebSocket
 * use our dispatcher, so an interceptor sees the status before the WebSocket discards it.
 */
export interface UpgradeObserver {
  onStatus(status: number): void;
  /** The request failed without a response (refused, DNS, TLS, reset). */
  onError(error: Error): void;
}

export function createUpgradeStatusDispatcher(observer: UpgradeObserver): Dispatcher {
  const watchUpgrades: Dispatcher.DispatcherComposeInterceptor = (dispatch) =>
    function dispatchWatchingUpgrade(options, handler) {
      if (!options.upgrade) return dispatch(options, handler);
      return dispatch(options, observeStatus(handler, observer));
    };
  // A WebSocket upgrade is HTTP/1.1, and the bundle leaves undici's HTTP/2 client out
  // (agent-relay/build.ts): a TLS handshake must not offer h2.
  return new Agent({ allowH2: false }).compose(watchUpgrades);
}

// A Proxy rather than a wrapper class: undici's fetch handler keeps state on itself (`this.abort`)
// and has hooks beyond the documented ones, which must all reach it unchanged.
function observeStatus(handler: Dispatcher.DispatchHandler, observer: UpgradeObserver) {
  return new Proxy(handler, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      if (property === "onResponseStart" || property === "onRequestUpgrade") {
        return function reportStatus(this: unknown, controller: unknown, status: number, ...rest: unknown[]) {
          if (status === 101 || status >= 200) observer.onStatus(status);
          return (value as (...args: unknown[]) => unknown).call(this, controller, status, ...rest);
        };
      }
      if (property === "onResponseError") {
        return function reportError(this: unknown, controller: unknown, error: Error) {
          observer.onError(error);
          return (value as (...args: unknown[]) => unknown).call(this, controller, error);
        };
      }
      return value;
    },
  });
}
