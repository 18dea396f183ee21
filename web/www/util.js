// util.js — two small helpers every module of the page uses: an element by its id, and a number
// held between two bounds.

/** The element with id `id`. */
export const $ = (id) => document.getElementById(id);

/** `x` held between `lo` and `hi`. */
export const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));
