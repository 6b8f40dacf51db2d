// Which launcher places a target's runs (see core/runs/launcher.ts).
import type { LaunchSpec, RunLauncher } from '../../runs/launcher';
import { DetachedLauncher } from './detached';

export function createLauncher(spec: LaunchSpec): RunLauncher {
  return new DetachedLauncher(spec);
}
