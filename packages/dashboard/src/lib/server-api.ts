/**
 * The dashboard's one way into the server's sources (eslint.config.js holds every other file to it): what the
 * server declares for the dashboard in admin/api-types.ts, that is the admin API's types, the live stream's events
 * and the pure helpers that compute figures as the server does.
 */
export * from '../../../server/src/admin/api-types.ts';
