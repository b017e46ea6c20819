// Types of `tailor/slim`: the package's API with the engine's wasm passed by the caller.
import type { InitOptions as FullInitOptions, Tailor, WasmSource } from './index.js';

export * from './index.js';

/** Options of `init()` in `tailor/slim`: `wasm` is required. */
export interface InitOptions extends FullInitOptions {
  /** The engine's wasm: a URL, a Response, bytes or a compiled module (`tailor/tailor_bg.wasm`). */
  wasm: WasmSource;
}

/** Start the engine with the wasm you pass (see `tailor`'s `init`). */
export declare function init(opts: InitOptions): Promise<Tailor>;
