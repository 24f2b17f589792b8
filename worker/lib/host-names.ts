// Names Pier gives what it creates on a host. Pure and a leaf module: applications, databases and
// deployments all name things on the host, and import one another's services otherwise.

/** The project's network: applications and databases of one project reach each other by app name. */
export const projectNetwork = (projectId: string): string => `pier-${projectId}`;

/** The image a deployment builds (or tags a pulled image as), kept for rollback. */
export const imageTagFor = (app: { appName: string }, deploymentId: string): string => `pier/${app.appName}:${deploymentId}`;
