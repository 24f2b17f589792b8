// Query keys, one factory per resource: mutations invalidate exactly what they change, and the
// live streams write into these same entries.
export const keys = {
  me: ["me"] as const,
  setup: ["setup"] as const,
  hosts: {
    all: ["hosts"] as const,
    list: () => ["hosts", "list"] as const,
    detail: (id: string) => ["hosts", "detail", id] as const,
    containers: (id: string) => ["hosts", id, "containers"] as const,
    container: (id: string, containerId: string) => ["hosts", id, "container", containerId] as const,
    images: (id: string) => ["hosts", id, "images"] as const,
    volumes: (id: string) => ["hosts", id, "volumes"] as const,
    /**
     * Outside "hosts", which the live streams invalidate wholesale: a measurement walks every
     * volume's files on the host, so only the user asks for it again.
     */
    volumeSizes: (id: string) => ["volume-sizes", id] as const,
    networks: (id: string) => ["hosts", id, "networks"] as const,
    metrics: (id: string, range: string) => ["hosts", id, "metrics", range] as const,
  },
  notifications: {
    all: ["notifications"] as const,
    list: (filter: string) => ["notifications", "list", filter] as const,
    unread: () => ["notifications", "unread"] as const,
  },
  tasks: { all: ["tasks"] as const, list: (status: string) => ["tasks", "list", status] as const },
  alerts: { all: ["alerts"] as const, firing: () => ["alerts", "firing"] as const },
  projects: {
    all: ["projects"] as const,
    list: () => ["projects", "list"] as const,
    detail: (id: string) => ["projects", "detail", id] as const,
    environments: (id: string) => ["projects", id, "environments"] as const,
    activity: (id: string) => ["projects", id, "activity"] as const,
  },
  applications: {
    all: ["applications"] as const,
    detail: (id: string) => ["applications", "detail", id] as const,
    deployments: (id: string) => ["applications", id, "deployments"] as const,
    environment: (id: string) => ["applications", id, "environment"] as const,
    domains: (id: string) => ["applications", id, "domains"] as const,
    webhookDeliveries: (id: string) => ["applications", id, "webhook-deliveries"] as const,
  },
  databases: {
    all: ["databases"] as const,
    list: () => ["databases", "list"] as const,
    detail: (id: string) => ["databases", "detail", id] as const,
    connection: (id: string) => ["databases", "connection", id] as const,
  },
  deployments: { detail: (id: string) => ["deployments", id] as const, latest: () => ["deployments", "latest"] as const },
  access: {
    all: ["access"] as const,
    iam: ["access", "iam"] as const,
    mine: (userId: string) => ["access", "mine", userId] as const,
    vault: ["access", "vault"] as const,
  },
};
