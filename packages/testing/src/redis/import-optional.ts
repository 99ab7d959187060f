import { ProviderUnavailableError } from './provisioned-redis.js';

/**
 * Imports an optional peer dependency (testcontainers), or throws a {@link ProviderUnavailableError}
 * naming the packages to install when it is not installed, so the next provider is tried.
 */
export async function importOptional<T>(load: () => Promise<T>, packages: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND') {
      throw new ProviderUnavailableError(`${packages} is not installed (npm install --save-dev ${packages})`);
    }
    throw error;
  }
}
