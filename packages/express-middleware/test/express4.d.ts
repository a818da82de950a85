// Express 4 installed under another name for the compatibility test; its API as used there
// (express(), json(), post, listen) is the one Express 5's types describe.
declare module 'express4' {
  import express from 'express';
  export default express;
}
