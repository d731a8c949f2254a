// Part 1 of the regions sweep (four files so vitest runs them on its workers).
import { regionsPart } from './sweep.ts';

regionsPart(0, 4);
