import OpenAI from 'openai';
import { ModelRequestRejectedError, ModelUnavailableError, type HandoffError } from '@handoff/core';

/**
 * Maps an error of the `openai` client (after its own retries) to a runtime error: connection
 * failures, timeouts, 408/409/429 and 5xx become MODEL_UNAVAILABLE; other 4xx become
 * MODEL_REQUEST_REJECTED. An abort is returned as-is (it is not a model failure).
 */
export function toModelError(error: unknown, agent: string, model: string): HandoffError | unknown {
  if (error instanceof OpenAI.APIUserAbortError) return error;
  const details = { agent, model };
  if (error instanceof OpenAI.APIConnectionError) {
    return new ModelUnavailableError(`Agent "${agent}": the model endpoint could not be reached (${error.message}).`, { details, cause: error });
  }
  if (error instanceof OpenAI.APIError) {
    const status = error.status ?? 0;
    const message = `Agent "${agent}": model "${model}" answered HTTP ${status}: ${error.message}`;
    const withStatus = { ...details, status };
    if (status === 408 || status === 409 || status === 429 || status >= 500) {
      return new ModelUnavailableError(message, { details: withStatus, cause: error });
    }
    const hint = status === 401 ? ' Check the API key: OPENAI_API_KEY in the worker\'s environment, or the agent\'s model.apiKey.' : '';
    return new ModelRequestRejectedError(`${message}${hint}`, { details: withStatus, cause: error });
  }
  return error;
}
