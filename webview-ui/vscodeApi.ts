// The webview's side of the host channel (src/vscode/webviewHost.ts): post typed messages, keep state across
// reloads, and hear only host messages that pass the page's guard.

export interface VsCodeApi<Out> {
  postMessage(m: Out): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi<unknown>;

/** Listens for host messages (anything failing `accept` is ignored); call `ready()` once the page can render. */
export function connect<Out extends { type: string }, In>(accept: (m: unknown) => m is In, onMessage: (m: In) => void) {
  const api = acquireVsCodeApi() as VsCodeApi<Out | { type: 'ready' }>;
  window.addEventListener('message', (e: MessageEvent) => {
    if (accept(e.data)) onMessage(e.data);
  });
  return {
    post: (m: Out) => api.postMessage(m),
    getState: () => api.getState(),
    setState: (s: unknown) => api.setState(s),
    ready: () => api.postMessage({ type: 'ready' }),
  };
}
