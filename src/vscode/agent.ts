// PLACEHOLDER: replaced by the helper that owns this area.
export function registerAgent(..._args: unknown[]) {}
