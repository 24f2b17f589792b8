export function ProjectsPage() {
  return <p>Coming next.</p>;
}
export function ProjectPage() {
  return <p>Coming next.</p>;
}
