// Small wording helpers shared by every face.

/** "1 turn", "2 turns". */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}
