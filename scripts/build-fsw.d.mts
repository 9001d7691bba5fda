// Types of build-fsw.mjs, for the tests that rebuild the flight software.
export function buildFlightSoftware(options?: { force?: boolean }): Promise<{ path: string; built: boolean }>;
