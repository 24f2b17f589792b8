// Apart from client.ts, which needs a browser (its client is made for the page's origin), so code
// that only tells errors apart (retry.ts) can be tested in Node.

/** An API error as the API described it: its problem `detail` is what the user reads. */
export class ApiProblem extends Error {
  override readonly name = "ApiProblem";
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors: { pointer: string; detail: string }[] = [],
  ) {
    super(detail);
  }
}
