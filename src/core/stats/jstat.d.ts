// The part of jstat (no bundled types) that the t-tests use.
declare module 'jstat' {
  export const jStat: {
    studentt: {
      cdf(x: number, dof: number): number;
      inv(p: number, dof: number): number;
    };
  };
}
