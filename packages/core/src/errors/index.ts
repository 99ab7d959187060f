export { ErrorCode, ERROR_CODE_INFO, type ErrorCodeInfo } from './error-codes.js';
export { HandoffError, ErrorJson, isHandoffError, toErrorJson, type HandoffErrorOptions } from './handoff-error.js';
export * from './error-classes.js';
export { errorFromJson } from './error-from-json.js';
