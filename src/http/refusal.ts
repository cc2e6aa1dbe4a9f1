/**
 * Why an input cannot be served as it is: a request head the framing rules reject (framing.ts),
 * or an app's Response that cannot be put on the wire (response-plan.ts). Returned in place of
 * the result, only on failure, so the success path allocates nothing for it; the caller answers
 * with `status` and logs `why`.
 */
export class Refusal {
  readonly status: number;
  /** One line for the log, naming the input (e.g. `more than one Content-Length`). */
  readonly why: string;

  constructor(status: number, why: string) {
    this.status = status;
    this.why = why;
  }
}
