import { afterEach, expect } from 'vitest';
import { takeViolations } from '../models/openapi/validator.js';

// Every request a provider model received and every answer it gave were checked against the
// provider's OpenAPI description: a test in which the code sent what the real API would refuse
// (or a model answered what the real API never does) fails here, naming each violation.
afterEach(() => {
  expect(takeViolations(), "requests or answers that the providers' OpenAPI descriptions refuse").toEqual([]);
});
