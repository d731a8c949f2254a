// Half of the baseline sweep (two files so vitest runs them on two workers).
import { baselineHalf } from './sweep.ts';

baselineHalf(1);
