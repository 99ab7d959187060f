/** Generates the ids a scripted model hands out: `chatcmpl-<n>`, `call_<n>` and `req_<n>`. */
export class CompletionIds {
  #completion = 0;
  #call = 0;
  #request = 0;

  /** The next completion id, `chatcmpl-<n>` (n from 1). */
  completion(): string {
    this.#completion += 1;
    return `chatcmpl-${this.#completion}`;
  }

  /** The next tool-call id, `call_<n>` (n from 1). */
  toolCall(): string {
    this.#call += 1;
    return `call_${this.#call}`;
  }

  /** The next `x-request-id` header value, `req_<n>` (n from 1). */
  request(): string {
    this.#request += 1;
    return `req_${this.#request}`;
  }
}
