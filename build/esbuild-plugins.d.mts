import type { BuildOptions, Plugin } from 'esbuild';

export declare const nodePlugins: Plugin[];

export declare function nodeBuildOptions(options: { production: boolean }): BuildOptions;
