/** The engine-author functions of issue 19 (transformations), as exported: argument counts checked. */
import { makeCheckpoint as makeCheckpointUnchecked } from "./checkpoint.js";
import { isWeak as isWeakUnchecked, markWeak as markWeakUnchecked } from "./coerce.js";
import { checkArity } from "./errors.js";
import { splitVjpOptions as splitUnchecked, transformOptions as optionsUnchecked } from "./transform-options.js";

export const markWeak = checkArity("markWeak", 1, 1, markWeakUnchecked);
export const isWeak = checkArity("isWeak", 1, 1, isWeakUnchecked);
export const makeCheckpoint = checkArity("makeCheckpoint", 1, 1, makeCheckpointUnchecked);
export const splitVjpOptions = checkArity("splitVjpOptions", 1, 1, splitUnchecked);
export const transformOptions = checkArity("transformOptions", 3, 3, optionsUnchecked);
