import { useQuery } from "@tanstack/react-query";
import { getApiRoot, getMe } from "../../api/endpoints";
import { Card, PageHeader, Skeleton } from "../../components/ui/Card";

export default function AboutPage() {
  const root = useQuery({ queryKey: ["api-root"], queryFn: getApiRoot });
  const me = useQuery({ queryKey: ["me"], queryFn: getMe });
  return (
    <>
      <PageHeader title="About" description="MaxIOFS: S3-compatible object storage." />
      <Card className="mb-4">
        <dl className="grid grid-cols-[12rem_1fr] gap-y-2 text-sm">
          <dt className="text-muted-fg">Version</dt>
          <dd data-testid="about-version">
            {root.data ? root.data.version : <Skeleton className="h-4 w-24" />}
          </dd>
          <dt className="text-muted-fg">Console API</dt>
          <dd>
            {root.data ? `/api/v1 (${root.data.api_version})` : <Skeleton className="h-4 w-24" />}
          </dd>
          <dt className="text-muted-fg">Signed in as</dt>
          <dd>
            {me.data ? `${me.data.username} (${me.data.role})` : <Skeleton className="h-4 w-32" />}
          </dd>
        </dl>
      </Card>
      <Card>
        <h2 className="mb-2 font-semibold">Documentation</h2>
        <ul className="list-disc pl-5 text-sm">
          <li>
            Console API: <code>docs/api/openapi.json</code> in the source tree (OpenAPI 3),
            described in <code>admin-api/README.md</code>.
          </li>
          <li>
            S3 compatibility: <code>docs/design/s3-compatibility.md</code>.
          </li>
          <li>
            API root:{" "}
            <a className="text-primary underline" href="/api/v1/">
              /api/v1/
            </a>
          </li>
        </ul>
      </Card>
    </>
  );
}
