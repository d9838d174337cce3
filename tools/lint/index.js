// The linter's plugins, resolved from this package. typescript-eslint supports TypeScript up to 6.0, while the
// project compiles with 7 (which has no JavaScript API yet): this package carries TypeScript 6 for the parser,
// and while ESLint runs, every `typescript` import resolves here (npm hoists typescript-eslint's helper
// ts-api-utils to the root, where it would find 7). The root config imports the plugins through this file.
import { createRequire, registerHooks } from 'node:module';
import { pathToFileURL } from 'node:url';

const typescript6 = pathToFileURL(createRequire(import.meta.url).resolve('typescript')).href;
registerHooks({
  resolve(specifier, context, next) {
    return specifier === 'typescript' ? { url: typescript6, format: 'commonjs', shortCircuit: true } : next(specifier, context);
  },
});

export const { default: js } = await import('@eslint/js');
export const { default: tseslint } = await import('typescript-eslint');
export const { default: reactHooks } = await import('eslint-plugin-react-hooks');
export { layers } from './layers.js';
