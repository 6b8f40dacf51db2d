// Which launcher places a target's runs (see core/runs/launcher.ts).
import type { LaunchSpec, RunLauncher } from '../../runs/launcher';
import { DetachedLauncher } from './detached';
import { SlurmLauncher } from './slurm';

export function createLauncher(spec: LaunchSpec): RunLauncher {
  return spec.target.kind === 'slurm' ? new SlurmLauncher(spec) : new DetachedLauncher(spec);
}
