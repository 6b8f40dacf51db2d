// Chart colours from the VS Code theme's CSS variables, so charts follow light, dark and high-contrast themes.

export interface Palette {
  fg: string;
  muted: string;
  grid: string;
  bg: string;
  font: string;
  run: string;
  reference: string;
  start: string;
  target: string;
  step: string;
  overlays: string[];
  highContrast: boolean;
}

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  return style.getPropertyValue(name).trim() || fallback;
}

export function readPalette(): Palette {
  const s = getComputedStyle(document.body);
  const cls = document.body.classList;
  const light = cls.contains('vscode-light') || cls.contains('vscode-high-contrast-light');
  const fg = cssVar(s, '--vscode-charts-foreground', cssVar(s, '--vscode-foreground', light ? '#333333' : '#cccccc'));
  const blue = cssVar(s, '--vscode-charts-blue', '#3794ff');
  const red = cssVar(s, '--vscode-charts-red', '#f14c4c');
  const green = cssVar(s, '--vscode-charts-green', '#89d185');
  const yellow = cssVar(s, '--vscode-charts-yellow', '#cca700');
  const orange = cssVar(s, '--vscode-charts-orange', '#d18616');
  const purple = cssVar(s, '--vscode-charts-purple', '#b180d7');
  return {
    fg,
    muted: cssVar(s, '--vscode-descriptionForeground', fg),
    grid: cssVar(s, '--vscode-charts-lines', alpha(fg, 0.15)),
    bg: cssVar(s, '--vscode-editor-background', light ? '#ffffff' : '#1e1e1e'),
    font: cssVar(s, '--vscode-font-family', 'sans-serif'),
    run: blue,
    reference: green,
    start: orange,
    target: red,
    step: purple,
    overlays: [purple, yellow, red, '#4ec9b0', '#c586c0', '#9cdcfe'],
    highContrast: cls.contains('vscode-high-contrast') || cls.contains('vscode-high-contrast-light'),
  };
}

let probe: CanvasRenderingContext2D | null = null;

/** The colour with an alpha channel; any CSS colour syntax the canvas understands is accepted. */
export function alpha(color: string, a: number): string {
  probe ??= document.createElement('canvas').getContext('2d');
  if (!probe) return color;
  probe.fillStyle = '#000000';
  probe.fillStyle = color;
  const c = String(probe.fillStyle);
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(c);
  if (hex) return `rgba(${parseInt(hex[1], 16)}, ${parseInt(hex[2], 16)}, ${parseInt(hex[3], 16)}, ${a})`;
  const rgba = /^rgba?\(([^,]+),([^,]+),([^,)]+)(?:,([^)]+))?\)$/.exec(c);
  if (rgba) return `rgba(${rgba[1]},${rgba[2]},${rgba[3]}, ${a * (rgba[4] ? parseFloat(rgba[4]) : 1)})`;
  return color;
}

/** Calls back when the user switches theme (VS Code swaps the body's classes and style variables). */
export function onThemeChange(cb: () => void): void {
  const obs = new MutationObserver(() => cb());
  obs.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  obs.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
}
