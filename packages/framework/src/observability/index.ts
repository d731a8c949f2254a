export { createMetricsRegistry } from './metrics.js';
export { createLogger, type CreateLoggerOptions } from './logger.js';
export {
  createHttpServer,
  metricsHandler,
  addMetricsRoute,
  type HttpServer,
  type HttpResponse,
  type RouteHandler,
  type CreateHttpServerOptions,
} from './http.js';
