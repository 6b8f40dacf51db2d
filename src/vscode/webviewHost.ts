// One webview panel and its conversation with the page, for the dashboard and the agent transcript alike:
// the page posts `ready` whenever it (re)loads and the host then sends everything it shows; posts before that
// are dropped (the next `ready` sends it all again); every incoming message is parsed with a zod schema
// (a webview is untrusted input); a request carries a fresh id, and its answer settles it or a timeout does.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { z } from 'zod';
import { makeNonce, webviewShell } from '../shared/dashboardHtml';
import { sideColumn } from './layout';

export interface WebviewPage<In> {
  viewType: string;
  /** Tab title until setTitle. */
  title: string;
  /** The bundled script and stylesheet under media/. */
  script: string;
  style: string;
  /** Static markup the script fills in; escaped by whoever writes it. */
  body: string;
  /** Parses what the page posts; the `ready` message is { type: 'ready' }. */
  schema: z.ZodType<In>;
}

export interface WebviewHandlers<In> {
  /** The page (re)loaded: send everything it shows. */
  onReady(): void | Promise<void>;
  /** Every other message, parsed. Answers to requests never get here. */
  onMessage(m: In): void | Promise<void>;
  /** VS Code revived the panel after a reload, with the state the page saved (untrusted). */
  onRevive?(state: unknown): void;
  onClose?(): void;
}

interface Pending {
  resolve(m: unknown): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export class WebviewHost<Out, In extends { type: string }> implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  /** The page is ready and onReady has sent what it shows: a request posted now comes after that. */
  private loaded = false;
  private readyWaiters: (() => void)[] = [];
  private readonly pending = new Map<string, Pending>();
  private panelDisposables: vscode.Disposable[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private readonly media: vscode.Uri;

  constructor(
    context: vscode.ExtensionContext,
    private readonly page: WebviewPage<In>,
    private readonly handlers: WebviewHandlers<In>,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.media = vscode.Uri.joinPath(context.extensionUri, 'media');
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(page.viewType, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          this.attach(panel);
          this.handlers.onRevive?.(state);
        },
      }),
    );
  }

  get isOpen(): boolean {
    return !!this.panel;
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** Opens the panel in the group beside the code (see sideColumn), or reveals it where it is. */
  show(preserveFocus = true): void {
    if (this.panel) this.panel.reveal(undefined, preserveFocus);
    else this.attach(vscode.window.createWebviewPanel(this.page.viewType, this.page.title, { viewColumn: sideColumn(), preserveFocus }, {}));
  }

  setTitle(title: string): void {
    if (this.panel) this.panel.title = title;
  }

  /** Posts to the page if it is ready; false when dropped (the next `ready` re-sends everything). */
  post(m: Out): boolean {
    if (!this.panel || !this.ready) return false;
    void this.panel.webview.postMessage(m);
    return true;
  }

  /** Resolves once the page is ready and has been sent its content (revealing the panel: a hidden page may be unloaded). */
  whenReady(timeoutMs: number): Promise<void> {
    if (this.loaded) return Promise.resolve();
    if (!this.panel) return Promise.reject(new Error(`the ${this.page.title} is not open`));
    this.panel.reveal(undefined, true);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.readyWaiters = this.readyWaiters.filter((w) => w !== done);
        reject(new Error(`the ${this.page.title} did not load`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.readyWaiters.push(done);
    });
  }

  /**
   * Posts a request carrying a fresh `requestId` and resolves with the page's answer: the first message of type
   * `answer` with the same requestId. Rejects after `timeoutMs`, or when the panel closes.
   */
  async request<T extends In['type']>(make: (requestId: string) => Out, answer: T, timeoutMs: number): Promise<Extract<In, { type: T }>> {
    await this.whenReady(timeoutMs);
    const requestId = randomBytes(8).toString('hex');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new Error(`the ${this.page.title} did not answer`));
      }, timeoutMs);
      this.pending.set(requestId, {
        resolve: (m) => ((m as In).type === answer ? resolve(m as Extract<In, { type: T }>) : reject(new Error(`unexpected answer ${(m as In).type}`))),
        reject,
        timer,
      });
      this.post(make(requestId));
    });
  }

  private attach(panel: vscode.WebviewPanel): void {
    if (this.panel && this.panel !== panel) this.close(true);
    this.panel = panel;
    this.ready = this.loaded = false;
    panel.iconPath = vscode.Uri.joinPath(this.media, 'speedrun.svg');
    panel.webview.options = { enableScripts: true, localResourceRoots: [this.media] };
    const asset = (name: string) => panel.webview.asWebviewUri(vscode.Uri.joinPath(this.media, name)).toString();
    panel.webview.html = webviewShell({
      cspSource: panel.webview.cspSource,
      nonce: makeNonce(),
      scriptUri: asset(this.page.script),
      styleUri: asset(this.page.style),
      title: this.page.title,
      body: this.page.body,
    });
    this.panelDisposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => this.receive(raw)),
      // Without retainContextWhenHidden a hidden page is unloaded; it posts `ready` again when shown.
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.ready = this.loaded = false;
      }),
      panel.onDidDispose(() => {
        if (this.panel === panel) this.close(false);
      }),
    );
  }

  private receive(raw: unknown): void {
    const parsed = this.page.schema.safeParse(raw);
    if (!parsed.success) {
      this.log.warn(`${this.page.viewType}: ignored a malformed message from the webview`);
      return;
    }
    const m = parsed.data;
    const id = (m as { requestId?: unknown }).requestId;
    const p = typeof id === 'string' ? this.pending.get(id) : undefined;
    const run = (f: () => void | Promise<void>) =>
      void Promise.resolve().then(f).catch((e) => this.log.error(`${this.page.viewType}: ${(e as Error).message}`));
    if (p) {
      this.pending.delete(id as string);
      clearTimeout(p.timer);
      p.resolve(m);
    } else if (m.type === 'ready') {
      this.ready = true;
      this.loaded = false;
      run(async () => {
        await this.handlers.onReady();
        this.loaded = this.ready;
        if (this.loaded) for (const w of this.readyWaiters.splice(0)) w();
      });
    } else run(() => this.handlers.onMessage(m));
  }

  /** Forgets the panel (disposing it when asked) and fails the requests still waiting for it. */
  private close(dispose: boolean): void {
    const panel = this.panel;
    this.panel = undefined;
    this.ready = this.loaded = false;
    for (const d of this.panelDisposables.splice(0)) d.dispose();
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error(`the ${this.page.title} was closed`));
      this.pending.delete(id);
    }
    if (dispose) panel?.dispose();
    this.handlers.onClose?.();
  }

  dispose(): void {
    this.close(true);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
