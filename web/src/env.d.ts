// Module types the bundler provides: stylesheets are imported for their side effect.
declare module '*.css';
