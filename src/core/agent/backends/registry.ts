// The backend registry: one factory per BackendConfig kind. Faces build a session's backend only through
// `create`, so a new backend (an ACP agent, a VS Code language model proxied by a client) is one registered
// factory, not a new branch in every face.
import type { TaskFile } from '../../benchmark/types';
import type { BackendConfig } from '../types';
import { type AgentBackend, BackendError } from './backend';

/** What a factory may use besides its config. */
export interface BackendEnv {
  taskDir: string;
  task: TaskFile;
  /** The endpoint's key, when the face has one (from secret storage or the environment); never logged. */
  apiKey?: string;
}

export interface BackendFactory<K extends BackendConfig['kind'] = BackendConfig['kind']> {
  readonly kind: K;
  /** For `speedrun agent --help` and pickers. */
  readonly summary: string;
  /**
   * The ground-truth replay: it reads level 0, gets no hints, and rule findings are reported without blocking.
   * Every other backend is an agent and must never see level 0.
   */
  readonly replay?: boolean;
  create(config: Extract<BackendConfig, { kind: K }>, env: BackendEnv): AgentBackend;
  /** The model name for the transcript's session event, if the config names one. */
  modelOf?(config: Extract<BackendConfig, { kind: K }>): string | undefined;
}

export class BackendRegistry {
  private readonly factories = new Map<string, BackendFactory>();

  register<K extends BackendConfig['kind']>(factory: BackendFactory<K>): this {
    this.factories.set(factory.kind, factory as unknown as BackendFactory);
    return this;
  }

  get(kind: string): BackendFactory | undefined {
    return this.factories.get(kind);
  }

  kinds(): string[] {
    return [...this.factories.keys()];
  }

  /** Builds the backend for `config`; throws BackendError naming the kinds on offer when none matches. */
  create(config: BackendConfig, env: BackendEnv): { backend: AgentBackend; factory: BackendFactory; model?: string } {
    if (typeof config?.kind !== 'string') throw new BackendError(`No backend was named (available: ${this.kinds().join(', ') || 'none'}).`);
    const factory = this.factories.get(config.kind);
    if (!factory) throw new BackendError(`No '${config.kind}' backend here (available: ${this.kinds().join(', ') || 'none'}).`);
    return { backend: factory.create(config as never, env), factory, model: factory.modelOf?.(config as never) };
  }
}
