// esbuild bundles imported stylesheets into the one CSS file.
declare module '*.css';
