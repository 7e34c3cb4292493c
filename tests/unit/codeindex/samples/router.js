import { parse } from './url.js';
const helpers = require('./helpers');

// Build a route table from a list of specs.
export function buildRoutes(specs) {
  return specs.map((s) => ({ path: s.path, handler: s.handler }));
}

export class Router {
  constructor(routes) {
    this.routes = routes;
  }

  /** Find the handler for a URL path. */
  match(url) {
    const { pathname } = parse(url);
    return this.routes.find((r) => r.path === pathname);
  }
}

const notFound = (req, res) => {
  res.statusCode = 404;
};

module.exports = { Router, notFound };
