import type { Plugin } from 'esbuild';

export declare const nodePlugins: Plugin[];
