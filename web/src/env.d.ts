// Stylesheets imported by the pages are bundled by esbuild into dist/assets/<page>.css.
declare module '*.css';
