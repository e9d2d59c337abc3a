import type { AsyncResult } from '../result/async-result';
import type { Canvas } from './canvas';
import { Chain } from './chain';
import { Chord } from './chord';
import { Group } from './group';
import type { Signature } from './signature';

/**
 * A step that takes the previous step's result first (a partial signature), ignores it (`.si()`), is known
 * only by name (`app.signature(...)`, unchecked), or is a group (each member takes it; the next step gets
 * the group's results: Celery makes `group | task` a chord).
 */
export type Step<TIn, TOut> =
  | Signature<[TIn], TOut, false>
  | Signature<[TIn?], TOut, false>
  | Signature<[], TOut, true>
  | Signature<unknown[], TOut, false>
  | (TOut extends unknown[] ? Group<TOut> : never);

/** The values a tuple of complete signatures resolves to. */
export type ResultsOf<T extends readonly Canvas[]> = {
  -readonly [K in keyof T]: T[K] extends Canvas<AsyncResult<infer R>> ? R : unknown;
};

/**
 * Tasks run one after the other, each getting the previous result first (Celery's `chain`):
 * `chain(add.s(2, 2), mul.s(4))` computes `(2 + 2) * 4`. Typed step by step, up to six steps; `new Chain([...])`
 * takes any number of steps of any kind, checked at run time only.
 */
export function chain<A>(first: Canvas<AsyncResult<A>>): Chain<A>;
export function chain<A, B>(first: Canvas<AsyncResult<A>>, s2: Step<A, B>): Chain<B>;
export function chain<A, B, C>(first: Canvas<AsyncResult<A>>, s2: Step<A, B>, s3: Step<B, C>): Chain<C>;
export function chain<A, B, C, D>(
  first: Canvas<AsyncResult<A>>,
  s2: Step<A, B>,
  s3: Step<B, C>,
  s4: Step<C, D>,
): Chain<D>;
export function chain<A, B, C, D, E>(
  first: Canvas<AsyncResult<A>>,
  s2: Step<A, B>,
  s3: Step<B, C>,
  s4: Step<C, D>,
  s5: Step<D, E>,
): Chain<E>;
export function chain<A, B, C, D, E, F>(
  first: Canvas<AsyncResult<A>>,
  s2: Step<A, B>,
  s3: Step<B, C>,
  s4: Step<C, D>,
  s5: Step<D, E>,
  s6: Step<E, F>,
): Chain<F>;
export function chain(...steps: Canvas[]): Chain<unknown> {
  return new Chain(steps);
}

/** Tasks run in parallel, sharing one group id (Celery's `group`); `applyAsync()` gives a GroupResult. */
export function group<const T extends readonly Canvas[]>(...tasks: T): Group<ResultsOf<T>> {
  return new Group<ResultsOf<T>>(tasks);
}

/**
 * Runs `header` in parallel, then `body` once with the header's results in order (Celery's `chord`). Needs a
 * result backend that joins chords (redis://, postgresql://, memory://).
 */
export function chord<const T extends readonly Canvas[], R>(
  header: T | Group<ResultsOf<T>>,
  body: Step<ResultsOf<T>, R>,
): Chord<R> {
  return new Chord<R>(header instanceof Group ? header : [...header], body);
}
