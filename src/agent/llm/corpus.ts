/** One short, self-contained note the RAG endpoint, the agent's search tool and the offline model answer from. */
export interface Passage {
  /** Stable across releases: traces and tests refer to passages by id. */
  id: string;
  title: string;
  text: string;
  /** The public documentation page the passage summarises. */
  url?: string;
  topic: 'mlflow' | 'opentelemetry' | 'databricks';
}

// Written for this tool's users. Sentences end with '. ' and avoid abbreviations with dots, because
// the offline model quotes passages sentence by sentence.

const MLFLOW: Passage[] = [
  {
    id: 'mlflow-overview',
    title: 'What MLflow is',
    text:
      'MLflow is an open-source platform for the lifecycle of machine learning and generative AI applications. ' +
      'It covers experiment tracking, a model registry, model packaging and deployment, evaluation, and tracing of LLM applications. ' +
      'Databricks started the project in 2018 and offers a managed version, while anyone can run the open-source tracking server themselves.',
    url: 'https://mlflow.org/docs/latest/',
    topic: 'mlflow',
  },
  {
    id: 'mlflow-tracking',
    title: 'MLflow Tracking and the tracking server',
    text:
      'MLflow Tracking records runs with their parameters, metrics and artifacts, and stores traces of GenAI applications. ' +
      'Clients find the tracking server through the tracking URI, set with MLFLOW_TRACKING_URI or mlflow.set_tracking_uri(). ' +
      'The server keeps metadata in a backend store, such as a SQL database or local files, and large files in an artifact store.',
    url: 'https://mlflow.org/docs/latest/ml/tracking/',
    topic: 'mlflow',
  },
  {
    id: 'mlflow-server-setup',
    title: 'Running an MLflow tracking server',
    text:
      'A local tracking server starts with a command such as mlflow server --backend-store-uri sqlite:///mlflow.db --port 5000, and the web UI is served on the same address. ' +
      'Trace ingestion over OpenTelemetry needs a SQL-based backend store, for example SQLite, PostgreSQL or MySQL, rather than plain files. ' +
      'The health endpoint GET /health answers OK and GET /version returns the server version.',
    url: 'https://mlflow.org/docs/latest/ml/tracking/',
    topic: 'mlflow',
  },
  {
    id: 'mlflow-experiments',
    title: 'MLflow experiments',
    text:
      'An experiment groups related runs and traces, and every trace belongs to exactly one experiment. ' +
      'Each experiment has a numeric id and a unique name, and mlflow.set_experiment() creates the experiment when the name does not exist yet. ' +
      'A deleted experiment keeps its name until it is permanently removed, so creating a new experiment with that name fails until the old one is restored or purged. ' +
      'The MLFLOW_EXPERIMENT_NAME and MLFLOW_EXPERIMENT_ID environment variables choose the experiment without code changes.',
    url: 'https://mlflow.org/docs/latest/ml/tracking/',
    topic: 'mlflow',
  },
  {
    id: 'mlflow-tracing',
    title: 'MLflow Tracing',
    text:
      'MLflow Tracing records what an LLM or agent application does for each request as a trace: a tree of spans with their inputs, outputs, timings, errors and metadata. ' +
      'It helps to debug a single request, to monitor quality, latency and cost in production, and to build evaluation datasets from real traffic. ' +
      'MLflow Tracing is compatible with OpenTelemetry, so traces can come from the MLflow SDKs or from any OpenTelemetry instrumentation.',
    url: 'https://mlflow.org/docs/latest/genai/tracing/',
    topic: 'mlflow',
  },
  {
    id: 'mlflow-trace-structure',
    title: 'What an MLflow trace contains',
    text:
      'An MLflow trace has two parts: trace info and trace data. ' +
      'Trace info holds the trace id, the experiment, the request time, the execution duration, the state (OK, ERROR or IN_PROGRESS), request and response previews, tags and metadata. ' +
      'Trace data holds the spans. ' +
      'For traces that arrive over OpenTelemetry, the MLflow trace id is tr- followed by the 32 hexadecimal digits of the OpenTelemetry trace id.',
    url: 'https://mlflow.org/docs/latest/genai/tracing/',
    topic: 'mlflow',
  },
  {
    id: 'mlflow-spans',
    title: 'Spans in MLflow traces',
    text:
      'A span is one step of the work inside a trace, such as an LLM call, a retrieval or a tool call. ' +
      'It has a name, a span id, a parent span id, start and end times, a status, attributes and events; the root span has no parent. ' +
      "MLflow keeps a span's inputs and outputs as JSON in the attributes mlflow.spanInputs and mlflow.spanOutputs, and the UI shows them side by side.",
    url: 'https://mlflow.org/docs/latest/genai/tracing/',
    topic: 'mlflow',
  },
  {
    id: 'mlflow-span-types',
    title: 'MLflow span types',
    text:
      'Every MLflow span has a type, stored in the mlflow.spanType attribute. ' +
      'The built-in types are CHAT_MODEL, LLM, RETRIEVER, TOOL, AGENT, CHAIN, EMBEDDING, PARSER, RERANKER and UNKNOWN. ' +
      'The UI uses the type to pick an icon and a view: chat messages for CHAT_MODEL spans and document lists for RETRIEVER spans. ' +
      'Search filters can select spans by type, which only works when the type is stored as a plain string.',
    url: 'https://mlflow.org/docs/latest/genai/tracing/',
    topic: 'mlflow',
  },
  {
    id: 'mlflow-retriever-spans',
    title: 'RETRIEVER spans and documents',
    text:
      'A RETRIEVER span records a search over a knowledge base in a retrieval-augmented generation (RAG) application. ' +
      'Its output is a list of documents, each with page_content, metadata such as a source URI, and an id. ' +
      'The Traces UI renders these documents, and evaluation judges use them to check whether an answer is grounded in what was retrieved.',
    url: 'https://mlflow.org/docs/latest/genai/tracing/',
    topic: 'mlflow',
  },
  {
    id: 'mlflow-token-usage',
    title: 'Token usage in MLflow traces',
    text:
      'MLflow records token counts of an LLM call in the span attribute mlflow.chat.tokenUsage as input_tokens, output_tokens and total_tokens. ' +
      'The trace-level token usage is the sum over the spans, so usage belongs on the leaf LLM spans only; putting it on parent spans as well counts it twice. ' +
      'For streamed OpenAI responses the usage only arrives when the request sets stream_options with include_usage, in a final chunk.',
    url: 'https://mlflow.org/docs/latest/genai/tracing/',
    topic: 'mlflow',
  },
  {
    id: 'mlflow-traces-ui',
    title: 'The MLflow Traces UI',
    text:
      'The Traces tab of an experiment lists traces with their request and response previews, state, duration, token usage, tags and sessions. ' +
      'Opening a trace shows the span tree, and for each span its inputs, outputs, attributes and events, with a chat view for chat model spans. ' +
      "The request preview is taken from the root span's inputs and the response preview from its outputs, so a root span without inputs and outputs shows empty previews.",
    url: 'https://mlflow.org/docs/latest/genai/tracing/',
    topic: 'mlflow',
  },
  {
    id: 'mlflow-search-traces',
    title: 'Searching MLflow traces',
    text:
      'In Python, mlflow.search_traces() returns matching traces as a table, and the REST API offers the same search at /api/3.0/mlflow/traces/search. ' +
      "Filter strings look like trace.status = 'OK', or tag.`team` = 'search' for tags, or metadata.`mlflow.trace.session` = 'abc' for metadata. " +
      'Results can be ordered by timestamp and are paged with a page token.',
    url: 'https://mlflow.org/docs/latest/genai/tracing/search-traces/',
    topic: 'mlflow',
  },
  {
    id: 'mlflow-autologging',
    title: 'MLflow autologging for LLM libraries',
    text:
      'Autologging traces a library with one call, for example mlflow.openai.autolog() or mlflow.langchain.autolog() in Python. ' +
      'Every call to the library then becomes a span with its prompts, responses, model name, parameters, token usage and errors, without changing application code. ' +
      'In TypeScript, the mlflow-openai package wraps an OpenAI client with tracedOpenAI() instead of patching the library.',
    url: 'https://mlflow.org/docs/latest/genai/tracing/app-instrumentation/automatic/',
    topic: 'mlflow',
  },
  {
    id: 'mlflow-manual-tracing',
    title: 'Manual tracing with the MLflow SDK',
    text:
      'Application code adds its own spans with the @mlflow.trace decorator or the mlflow.start_span() context manager in Python, and with mlflow.trace() or startSpan() in the TypeScript SDK. ' +
      'Both accept a span type, and spans started inside another span become its children automatically. ' +
      'Inputs and outputs can be set explicitly on a span when the function arguments are not what should be recorded.',
    url: 'https://mlflow.org/docs/latest/genai/tracing/',
    topic: 'mlflow',
  },
  {
    id: 'mlflow-otlp-ingest',
    title: 'Sending OpenTelemetry traces to MLflow',
    text:
      'Since version 3.6 the MLflow tracking server accepts OpenTelemetry traces at the OTLP/HTTP endpoint /v1/traces, encoded as protobuf. ' +
      'Each request must name the target experiment by its numeric id in the x-mlflow-experiment-id header; an experiment name does not work there. ' +
      'The endpoint needs a SQL backend store, and there is no OTLP/gRPC endpoint, so exporters must use http/protobuf.',
    url: 'https://mlflow.org/docs/latest/genai/tracing/opentelemetry/ingest/',
    topic: 'mlflow',
  },
  {
    id: 'mlflow-otel-mapping',
    title: 'How MLflow reads OpenTelemetry span attributes',
    text:
      'MLflow stores every OpenTelemetry span attribute and reads its own mlflow.* attributes for span type, inputs, outputs and token usage. ' +
      'When those are missing, recent MLflow versions derive them from the OpenTelemetry GenAI semantic conventions, such as gen_ai.operation.name and gen_ai.usage.input_tokens; explicit mlflow.* attributes win. ' +
      'Newer servers also turn session.id and user.id on the root span into the trace metadata mlflow.trace.session and mlflow.trace.user.',
    url: 'https://mlflow.org/docs/latest/genai/tracing/opentelemetry/',
    topic: 'mlflow',
  },
  {
    id: 'mlflow-sessions-users',
    title: 'Tracking users and sessions in MLflow',
    text:
      'MLflow groups the traces of one conversation through the trace metadata mlflow.trace.session and links traces to a user through mlflow.trace.user. ' +
      'With the Python SDK they are set by mlflow.update_current_trace(metadata=...) inside a traced function. ' +
      'Metadata cannot change after the trace is logged, which suits identifiers, while tags stay editable.',
    url: 'https://mlflow.org/docs/latest/genai/tracing/track-users-sessions/',
    topic: 'mlflow',
  },
  {
    id: 'mlflow-tags-metadata',
    title: 'Trace tags and metadata',
    text:
      'Traces carry two kinds of key-value annotations. ' +
      'Tags are mutable and are often used for things like environment, team or a readable trace name, and they can be added after the fact with mlflow.set_trace_tag(). ' +
      'Metadata is fixed when the trace is logged and holds values such as the session, the user, the token usage total and the source of the trace.',
    url: 'https://mlflow.org/docs/latest/genai/tracing/',
    topic: 'mlflow',
  },
  {
    id: 'mlflow-evaluation',
    title: 'Evaluating GenAI applications with MLflow',
    text:
      'mlflow.genai.evaluate() runs an application, or scores existing traces, over an evaluation dataset and applies scorers to every result. ' +
      'Scorers include LLM judges for correctness, relevance to the query, safety, retrieval groundedness and custom guidelines, and plain Python functions marked with @scorer. ' +
      'The scores are stored as assessments on the traces, so each evaluation run can be inspected and compared with earlier ones in the UI.',
    url: 'https://mlflow.org/docs/latest/genai/eval-monitor/',
    topic: 'mlflow',
  },
  {
    id: 'mlflow-assessments',
    title: 'Feedback and expectations on traces',
    text:
      'Assessments attach judgements to a trace or to one of its spans. ' +
      'Feedback records how good a result was, from a human reviewer, an end user or an LLM judge, and expectations record the ground truth answer. ' +
      'They are logged with mlflow.log_feedback() and mlflow.log_expectation() and appear next to the trace in the UI.',
    url: 'https://mlflow.org/docs/latest/genai/eval-monitor/',
    topic: 'mlflow',
  },
  {
    id: 'mlflow-auth',
    title: 'Authenticating to an MLflow server',
    text:
      'MLflow clients send Basic authentication when MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD are set, or a Bearer token from MLFLOW_TRACKING_TOKEN. ' +
      'The open-source server can enable its built-in authentication with mlflow server --app-name basic-auth, and many teams put a reverse proxy in front instead. ' +
      'The same credentials are needed for the REST API and for the OTLP endpoint.',
    url: 'https://mlflow.org/docs/latest/ml/auth/',
    topic: 'mlflow',
  },
  {
    id: 'mlflow-rest-trace-logging',
    title: 'Logging traces through the MLflow REST API',
    text:
      'Besides OTLP, a client can log a finished trace through the MLflow REST API: it first registers the trace info and then uploads the spans as a traces.json artifact. ' +
      'This path works on servers with a file store, on versions older than 3.6, and for experiment-stored traces in Databricks workspaces. ' +
      "MLflow's own TypeScript SDK uses this REST path by default.",
    url: 'https://mlflow.org/docs/latest/genai/tracing/',
    topic: 'mlflow',
  },
  {
    id: 'mlflow-production-tracing',
    title: 'MLflow tracing in production',
    text:
      'For production services there is a lightweight mlflow-tracing package with fewer dependencies than the full mlflow package. ' +
      'Traces can be exported asynchronously so that logging does not slow requests, but then a short-lived process must flush its pending traces before it exits or they are lost. ' +
      'Traces can also be exported over OpenTelemetry to a collector and fanned out from there.',
    url: 'https://mlflow.org/docs/latest/genai/tracing/',
    topic: 'mlflow',
  },
];

const OPENTELEMETRY: Passage[] = [
  {
    id: 'otel-overview',
    title: 'What OpenTelemetry is',
    text:
      'OpenTelemetry is a vendor-neutral, open-source observability framework hosted by the Cloud Native Computing Foundation. ' +
      'It defines APIs, SDKs, a wire protocol called OTLP and a collector for producing and shipping traces, metrics and logs. ' +
      'Instrumenting once with OpenTelemetry lets the same telemetry go to any compatible backend, including MLflow.',
    url: 'https://opentelemetry.io/docs/what-is-opentelemetry/',
    topic: 'opentelemetry',
  },
  {
    id: 'otel-traces',
    title: 'Traces in OpenTelemetry',
    text:
      'A trace follows one request through a system, across services and processes. ' +
      'It is a tree of spans that all share the same 16-byte trace id, written as 32 hexadecimal characters. ' +
      'Distributed tracing shows where time goes and where errors start when one user action touches many components.',
    url: 'https://opentelemetry.io/docs/concepts/signals/traces/',
    topic: 'opentelemetry',
  },
  {
    id: 'otel-spans',
    title: 'OpenTelemetry spans',
    text:
      'A span represents one operation within a trace. ' +
      'It carries a name, a span context with the trace id and its own 8-byte span id, the parent span id, a span kind, start and end timestamps, attributes, events, links and a status. ' +
      'The span kind is one of SERVER, CLIENT, INTERNAL, PRODUCER or CONSUMER, and the status is Unset, Ok or Error.',
    url: 'https://opentelemetry.io/docs/concepts/signals/traces/',
    topic: 'opentelemetry',
  },
  {
    id: 'otel-span-errors',
    title: 'Recording errors on spans',
    text:
      'When an operation fails, instrumentation sets the span status to Error with a short description and records the exception as a span event named exception. ' +
      'That event carries the attributes exception.type, exception.message and exception.stacktrace. ' +
      'Backends such as MLflow mark the whole trace as failed when its root span has status Error.',
    url: 'https://opentelemetry.io/docs/concepts/signals/traces/',
    topic: 'opentelemetry',
  },
  {
    id: 'otel-context-propagation',
    title: 'Context propagation',
    text:
      'Context propagation is how spans in different services end up in the same trace. ' +
      'Within a process the active span travels in a context object, which Node.js keeps across asynchronous calls with AsyncLocalStorage. ' +
      'Between processes, a propagator injects the context into outgoing request headers and the receiving service extracts it and starts its spans as children. ' +
      'The default propagators use the W3C Trace Context and Baggage headers.',
    url: 'https://opentelemetry.io/docs/concepts/context-propagation/',
    topic: 'opentelemetry',
  },
  {
    id: 'otel-traceparent',
    title: 'How the W3C traceparent header propagates trace context',
    text:
      'The traceparent header carries trace context between services in the W3C Trace Context format: version, trace id, parent span id and trace flags, separated by dashes. ' +
      'An example is 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01, where the final 01 means the trace is sampled. ' +
      "A service that receives traceparent continues the caller's trace instead of starting a new one, and the optional tracestate header carries vendor-specific data alongside it. " +
      'Trace or span ids made only of zeros are invalid.',
    url: 'https://www.w3.org/TR/trace-context/',
    topic: 'opentelemetry',
  },
  {
    id: 'otel-baggage',
    title: 'OpenTelemetry baggage',
    text:
      'Baggage is a set of key-value pairs that travels with a request across services in the baggage header. ' +
      'It is meant for values such as a tenant or user id that later services need, and it is not added to spans automatically. ' +
      'Because baggage is sent with every outgoing request, it must never hold secrets.',
    url: 'https://opentelemetry.io/docs/concepts/signals/baggage/',
    topic: 'opentelemetry',
  },
  {
    id: 'otel-otlp',
    title: 'What OTLP is',
    text:
      'OTLP is the protocol OpenTelemetry uses to send telemetry from SDKs to collectors and backends. ' +
      'It runs over gRPC, by convention on port 4317, or over HTTP on port 4318 with protobuf or JSON bodies posted to /v1/traces, /v1/metrics and /v1/logs. ' +
      'A trace export request groups spans by resource and by instrumentation scope, and the receiver may answer with a partial success that reports rejected spans.',
    url: 'https://opentelemetry.io/docs/specs/otlp/',
    topic: 'opentelemetry',
  },
  {
    id: 'otel-exporter-config',
    title: 'Configuring the OTLP exporter',
    text:
      'OTLP exporters read standard environment variables. ' +
      'OTEL_EXPORTER_OTLP_ENDPOINT is a base URL to which the SDK appends /v1/traces, while OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used exactly as given. ' +
      'OTEL_EXPORTER_OTLP_HEADERS adds headers such as API keys, OTEL_EXPORTER_OTLP_PROTOCOL chooses grpc, http/protobuf or http/json, and OTEL_EXPORTER_OTLP_COMPRESSION can enable gzip.',
    url: 'https://opentelemetry.io/docs/specs/otel/protocol/exporter/',
    topic: 'opentelemetry',
  },
  {
    id: 'otel-collector',
    title: 'The OpenTelemetry Collector',
    text:
      'The OpenTelemetry Collector is a standalone service that receives telemetry, usually over OTLP, processes it and exports it to one or more backends. ' +
      'Applications usually send OTLP to a collector, which then batches, filters, enriches, samples or redacts the data before forwarding it. ' +
      'It runs as an agent next to each application or as a central gateway, and lets teams change backends without touching application code.',
    url: 'https://opentelemetry.io/docs/collector/',
    topic: 'opentelemetry',
  },
  {
    id: 'otel-collector-pipelines',
    title: 'Collector pipelines: receivers, processors, exporters',
    text:
      'A collector is configured in YAML as pipelines per signal. ' +
      'Receivers such as the otlp receiver accept data, processors such as batch, memory_limiter, attributes and tail_sampling transform it, and exporters such as otlphttp send it on. ' +
      'To forward traces to MLflow, an otlphttp exporter points at the MLflow server and adds the x-mlflow-experiment-id header.',
    url: 'https://opentelemetry.io/docs/collector/configuration/',
    topic: 'opentelemetry',
  },
  {
    id: 'otel-span-processors',
    title: 'Span processors and flushing',
    text:
      'The SDK hands every finished span to span processors. ' +
      'A simple span processor exports each span as soon as it ends, which suits tests, while a batch span processor queues spans and exports them in batches in the background, which suits production. ' +
      'Before a process exits it must call forceFlush or shutdown on the tracer provider, or the spans still in the queue are lost.',
    url: 'https://opentelemetry.io/docs/languages/js/',
    topic: 'opentelemetry',
  },
  {
    id: 'otel-exporters',
    title: 'OpenTelemetry exporters',
    text:
      'An exporter sends finished spans to a destination. ' +
      'The OTLP exporters over HTTP or gRPC are the standard choice, a console exporter prints spans while developing, and an in-memory exporter lets tests assert on the spans an application produced. ' +
      'Exporting should never block or fail the request being traced.',
    url: 'https://opentelemetry.io/docs/languages/js/exporters/',
    topic: 'opentelemetry',
  },
  {
    id: 'otel-sampling',
    title: 'Sampling traces',
    text:
      'Sampling limits how many traces are recorded. ' +
      "Head sampling decides when the first span starts: AlwaysOn, AlwaysOff, TraceIdRatioBased for a fixed share, and ParentBased to follow the caller's decision, configured with OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG. " +
      'Tail sampling decides in a collector after the whole trace is seen, for example to keep every failed or slow trace.',
    url: 'https://opentelemetry.io/docs/concepts/sampling/',
    topic: 'opentelemetry',
  },
  {
    id: 'otel-semantic-conventions',
    title: 'OpenTelemetry semantic conventions',
    text:
      'Semantic conventions are agreed names and meanings for attributes, so that every tool reads telemetry the same way. ' +
      'For HTTP servers they include http.request.method, http.route, url.path, http.response.status_code and error.type. ' +
      'Conventions exist for databases, messaging, cloud resources and generative AI, among others.',
    url: 'https://opentelemetry.io/docs/concepts/semantic-conventions/',
    topic: 'opentelemetry',
  },
  {
    id: 'otel-genai-conventions',
    title: 'GenAI semantic conventions',
    text:
      'The GenAI semantic conventions describe LLM calls, agents and tools. ' +
      'A chat call span is named after the operation and model, such as chat gpt-4o-mini, and carries gen_ai.operation.name, gen_ai.provider.name, gen_ai.request.model, gen_ai.response.model, gen_ai.usage.input_tokens and gen_ai.usage.output_tokens. ' +
      'Message content is opt-in and goes into gen_ai.input.messages and gen_ai.output.messages. ' +
      'The conventions are still marked as in development, and gen_ai.provider.name replaced the older gen_ai.system.',
    url: 'https://opentelemetry.io/docs/specs/semconv/gen-ai/',
    topic: 'opentelemetry',
  },
  {
    id: 'otel-resource',
    title: 'Resources and service.name',
    text:
      'A resource describes the entity that produces telemetry, with attributes such as service.name, service.version and deployment.environment.name. ' +
      'OTEL_SERVICE_NAME sets the service name, and OTEL_RESOURCE_ATTRIBUTES adds more attributes as comma-separated key=value pairs. ' +
      "Every span exported by a tracer provider carries that provider's resource.",
    url: 'https://opentelemetry.io/docs/concepts/resources/',
    topic: 'opentelemetry',
  },
  {
    id: 'otel-instrumentation',
    title: 'Automatic and manual instrumentation',
    text:
      'Instrumentation is the code that creates spans. ' +
      'Automatic instrumentation patches popular libraries, while manual instrumentation calls the tracing API directly, for example with tracer.startActiveSpan(). ' +
      'In Node.js, patching works through module loading hooks, which do nothing for ES modules unless a loader hook is registered at startup; wrapping a client object explicitly works in every setup.',
    url: 'https://opentelemetry.io/docs/concepts/instrumentation/',
    topic: 'opentelemetry',
  },
  {
    id: 'otel-tracer-provider',
    title: 'Tracer providers and tracers',
    text:
      'A tracer provider holds the SDK configuration: the resource, the sampler, the span processors and the exporters. ' +
      'Code asks the provider for a tracer, names it after the instrumentation, and uses the tracer to start spans. ' +
      'A process should own one tracer provider; two libraries each registering a global provider compete and spans go missing.',
    url: 'https://opentelemetry.io/docs/concepts/signals/traces/',
    topic: 'opentelemetry',
  },
];

const DATABRICKS: Passage[] = [
  {
    id: 'databricks-overview',
    title: 'What Databricks is',
    text:
      'Databricks is a data and AI platform built around the lakehouse: data stored in open formats such as Delta Lake and processed with Apache Spark and SQL. ' +
      'Each customer works in a workspace with notebooks, jobs, SQL warehouses, model serving and a managed MLflow. ' +
      'Unity Catalog governs the data and AI assets across workspaces.',
    url: 'https://docs.databricks.com/aws/en/introduction/',
    topic: 'databricks',
  },
  {
    id: 'databricks-workspace-host',
    title: 'The Databricks workspace URL',
    text:
      'Every Databricks workspace has its own URL, which tools read from DATABRICKS_HOST. ' +
      'On AWS it looks like https://my-workspace.cloud.databricks.com, on Azure like https://adb-1234567890123456.7.azuredatabricks.net, and on Google Cloud it ends in gcp.databricks.com. ' +
      'REST APIs, model serving and MLflow tracking are all reached under this host.',
    url: 'https://docs.databricks.com/aws/en/workspace/workspace-details',
    topic: 'databricks',
  },
  {
    id: 'databricks-pat',
    title: 'Databricks personal access tokens',
    text:
      'A personal access token authenticates a user or service principal to Databricks REST APIs as a Bearer token in the Authorization header. ' +
      'Users create one in the workspace settings under Developer, and tools read it from DATABRICKS_TOKEN. ' +
      'Tokens have a lifetime and can be revoked, and Databricks recommends OAuth for automated production workloads.',
    url: 'https://docs.databricks.com/aws/en/dev-tools/auth/pat',
    topic: 'databricks',
  },
  {
    id: 'databricks-oauth-m2m',
    title: 'OAuth machine-to-machine authentication',
    text:
      'OAuth M2M lets a service principal authenticate with a client id and client secret, read from DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET. ' +
      'The client posts them to the workspace token endpoint /oidc/v1/token with grant_type=client_credentials and scope all-apis, and gets an access token that is valid for about one hour. ' +
      'Long-running services must refresh the token before it expires instead of keeping one header forever.',
    url: 'https://docs.databricks.com/aws/en/dev-tools/auth/oauth-m2m',
    topic: 'databricks',
  },
  {
    id: 'databricks-config-profiles',
    title: 'Databricks configuration profiles and unified auth',
    text:
      'The file ~/.databrickscfg holds named profiles, each an INI section with a host and either a token or a client_id and client_secret. ' +
      'Tools choose a profile with --profile or DATABRICKS_CONFIG_PROFILE and fall back to DEFAULT. ' +
      'Databricks unified client authentication makes the CLI and SDKs look for credentials in the same order: explicit settings and environment variables first, then the profile.',
    url: 'https://docs.databricks.com/aws/en/dev-tools/auth/config-profiles',
    topic: 'databricks',
  },
  {
    id: 'databricks-managed-mlflow',
    title: 'Managed MLflow on Databricks',
    text:
      'Databricks hosts MLflow in every workspace, so clients only set the tracking URI to databricks, or databricks://profile to use a named configuration profile. ' +
      'Experiments there are named by workspace paths such as /Users/someone@example.com/my-app. ' +
      'Traces logged to an experiment appear in its Traces tab, with the same span tree, previews and token usage as on an open-source server.',
    url: 'https://docs.databricks.com/aws/en/mlflow/',
    topic: 'databricks',
  },
  {
    id: 'databricks-model-serving',
    title: 'Databricks Model Serving and serving endpoints',
    text:
      'Mosaic AI Model Serving deploys models behind serving endpoints: REST endpoints that scale automatically and serve custom models, foundation models and external models. ' +
      'A serving endpoint has a name and is queried at /serving-endpoints/name/invocations under the workspace URL. ' +
      'Chat endpoints are OpenAI-compatible, so the OpenAI client works with base URL https://workspace-host/serving-endpoints, a Databricks token as API key, and the endpoint name as model.',
    url: 'https://docs.databricks.com/aws/en/machine-learning/model-serving/',
    topic: 'databricks',
  },
  {
    id: 'databricks-foundation-models',
    title: 'Databricks Foundation Model APIs',
    text:
      'Foundation Model APIs give every supported workspace ready-made pay-per-token serving endpoints for popular open and proprietary models, such as databricks-meta-llama-3-3-70b-instruct. ' +
      'Provisioned throughput endpoints reserve capacity and are recommended for production workloads. ' +
      'Both speak the same OpenAI-style chat completions format, and responses report token usage.',
    url: 'https://docs.databricks.com/aws/en/machine-learning/foundation-model-apis/',
    topic: 'databricks',
  },
  {
    id: 'databricks-serving-permissions',
    title: 'Permissions for querying serving endpoints',
    text:
      'Querying a serving endpoint needs a token whose identity has the Can Query permission on that endpoint. ' +
      'A missing permission or a bad token is often answered with 403 rather than 401. ' +
      'Service principals with OAuth M2M credentials are the recommended identity for applications that call serving endpoints.',
    url: 'https://docs.databricks.com/aws/en/machine-learning/model-serving/',
    topic: 'databricks',
  },
  {
    id: 'databricks-unity-catalog',
    title: 'Unity Catalog',
    text:
      'Unity Catalog is the governance layer of Databricks for tables, volumes, models and functions. ' +
      'Objects are addressed with a three-level name, catalog.schema.object, and access is granted to users, groups and service principals. ' +
      'It also records lineage, showing which jobs and models read and write each table.',
    url: 'https://docs.databricks.com/aws/en/data-governance/unity-catalog/',
    topic: 'databricks',
  },
  {
    id: 'databricks-uc-traces',
    title: 'Storing traces in Unity Catalog tables',
    text:
      'Databricks can store OpenTelemetry traces in Unity Catalog tables, a feature in preview. ' +
      'Clients send OTLP/HTTP protobuf to /api/2.0/otel/v1/traces on the workspace host with a header X-Databricks-UC-Table-Name naming the target spans table. ' +
      'The spans then become rows in Delta tables that can be queried with SQL and joined with other data.',
    url: 'https://docs.databricks.com/aws/en/mlflow3/genai/tracing/',
    topic: 'databricks',
  },
  {
    id: 'databricks-inference-tables',
    title: 'AI Gateway and inference tables',
    text:
      'Mosaic AI Gateway adds governance to serving endpoints: rate limits, usage tracking, guardrails and fallbacks. ' +
      'Inference tables log the requests and responses of a serving endpoint to a Delta table in Unity Catalog. ' +
      'Together with MLflow traces they are used to monitor the quality and cost of a deployed model or agent.',
    url: 'https://docs.databricks.com/aws/en/ai-gateway/',
    topic: 'databricks',
  },
  {
    id: 'databricks-experiment-traces',
    title: 'Sending traces to a Databricks experiment',
    text:
      'To log traces to an MLflow experiment in a Databricks workspace, clients set DATABRICKS_HOST, a credential, the tracking URI databricks and an experiment path. ' +
      'The traces are logged through the MLflow REST API, because Databricks has no OTLP route that takes an experiment id. ' +
      'Databricks recommends the mlflow-tracing package, or MLflow 3 with its databricks extra, for tracing applications.',
    url: 'https://docs.databricks.com/aws/en/mlflow3/genai/tracing/',
    topic: 'databricks',
  },
];

export const CORPUS: readonly Passage[] = [...MLFLOW, ...OPENTELEMETRY, ...DATABRICKS];
